// `switchyard serve [-m FILE | --models COMPOSITION] [--host 127.0.0.1] [--port 8080] [--parallel N] [-c CTX]
// [--api-key KEY] [--timeout S] [routing options] [sampling defaults]`
//
// The OpenAI-compatible server (src/server/, docs/server.md). This file only reads the options, loads the model
// (or reads the composition and builds its router) and hands them to server::serve (serve_composition), which
// runs until SIGTERM or SIGINT.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/routing_options.h"
#include "cli/text_options.h"
#include "cli/validators.h"
#include "coe/composition.h"
#include "coe/prompt_router.h"
#include "core/error.h"
#include "server/http/server.h"

namespace sy::cli {
namespace {

struct ServeCliOptions {
  std::string model;
  std::string models;  // a composition file
  std::string alias;
  std::string template_file;
  server::ServeOptions serve;
  int threads = 0;
  int64_t ctx_size = 0;
  RoutingOptions routing;
};

// --models: every model of the composition with the same routing options, threads and slots; -c is capped at each
// model's training context.
void run_serve_composition(ServeCliOptions& opt) {
  const coe::Composition composition = value_or_throw(coe::load_composition(opt.models));
  opt.serve.n_threads =
      opt.threads > 0 ? opt.threads : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  opt.serve.scheduler.n_ctx = opt.ctx_size;
  auto router = value_or_throw(coe::make_prompt_router(composition, {.n_threads = opt.serve.n_threads}));
  value_or_throw(server::serve_composition(composition, *router, opt.serve, [&](runtime::Engine& engine) {
    return apply_routing_options(engine, opt.routing);
  }));
}

void run_serve(ServeCliOptions& opt) {
  if (opt.serve.api_key.empty())
    if (const char* key = std::getenv("SWITCHYARD_API_KEY"); key != nullptr) opt.serve.api_key = key;
  if (!opt.models.empty()) return run_serve_composition(opt);
  const std::string path = opt.model.empty() ? bundled_model_path() : opt.model;
  TextModel tm = load_text_model(path);
  const runtime::SessionOptions session =
      session_options({.threads = opt.threads, .ctx_size = opt.ctx_size}, *tm.model);
  opt.serve.n_threads = session.n_threads;
  opt.serve.scheduler.n_ctx = session.n_ctx;
  opt.serve.model_id = opt.alias.empty() ? std::filesystem::path(path).stem().string() : opt.alias;
  if (!opt.template_file.empty()) opt.serve.chat_template = read_text_file(opt.template_file);
  value_or_throw(server::serve(*tm.model, tm.tokenizer, opt.serve,
                               [&](runtime::Engine& engine) { return apply_routing_options(engine, opt.routing); }));
}

void register_serve(CLI::App& app) {
  auto opt = std::make_shared<ServeCliOptions>();
  server::ServeOptions& s = opt->serve;
  auto* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server with continuous batching (docs/server.md)");
  auto* model = cmd->add_option("-m,--model", opt->model, "GGUF model file (default: the bundled model)");
  auto* models = cmd->add_option("--models", opt->models,
                                 "A composition of models (TOML or JSON: models, router, budget; docs/server.md)");
  auto* alias =
      cmd->add_option("--alias", opt->alias, "Model id the API reports (default: the file name without .gguf)");
  cmd->add_option("--host", s.host, "Address to listen on (default 127.0.0.1: this machine only)");
  cmd->add_option("--port", s.port, "Port (0: any free port; stderr says which)")->check(in_range(0, 65535));
  cmd->add_option("--parallel", s.scheduler.n_slots, "Sequences decoded together (sequence slots)")
      ->check(in_range(1, 256));
  cmd->add_option("--queue", s.scheduler.max_queue, "Requests that may wait for a slot before 503")
      ->check(in_range(size_t{0}, size_t{100000}));
  cmd->add_option("--prefill-chunk", s.scheduler.prefill_chunk, "Prompt tokens per step over all sequences")
      ->check(in_range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--prefill-chunk-decoding", s.scheduler.prefill_chunk_decoding,
                  "Prompt tokens per step while other sequences are generating (smaller: steadier token latency)")
      ->check(in_range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("-c,--ctx-size", opt->ctx_size, "Context per sequence (0 = the model's training context)")
      ->check(in_range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("-t,--threads", opt->threads, "Engine threads (default: up to 4)")->check(in_range(0, 1024));
  cmd->add_option("--api-key", s.api_key, "Require 'Authorization: Bearer KEY' (or $SWITCHYARD_API_KEY)");
  cmd->add_option("--timeout", s.timeout_s, "Seconds a request may take from arrival to its last token (0 = none)")
      ->check(in_range(0.0, 1e7));
  cmd->add_option("--drain", s.drain_seconds, "Seconds in-flight requests may take to finish after SIGTERM")
      ->check(in_range(0.0, 1e5));
  cmd->add_option("--max-body", s.max_body_bytes, "Largest request body in bytes (larger: 413)")
      ->check(in_range(size_t{1024}, size_t{1} << 34));
  auto* chat_template =
      cmd->add_option("--chat-template-file", opt->template_file, "Jinja chat template to use instead of the model's");
  // A composition names its models and each has its own template; one trace file cannot take several engines.
  models->excludes(model)->excludes(alias)->excludes(chat_template);
  cmd->add_option("-n,--n-predict", s.defaults.max_tokens, "Default max_tokens (-1 = until end of turn or context)")
      ->check(in_range(-1, 1 << 24));
  add_sampling_params(cmd, s.defaults.sampling);
  add_routing_options(cmd, opt->routing);
  if (auto* trace = cmd->get_option_no_throw("--trace")) models->excludes(trace);
  cmd->callback([opt] { run_serve(*opt); });
}

}  // namespace

SY_COMMAND(serve, register_serve);

}  // namespace sy::cli
