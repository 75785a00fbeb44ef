// `switchyard perplexity -m FILE -f TEXT [--ctx N] [-t N] [--json]`
//
// Perplexity of the model over a text file, by the rule in src/runtime/perplexity.h (the one the bundled
// model's training script uses): the text is tokenized whole without BOS, cut into chunks of ctx − 1 tokens,
// each scored as [BOS] + chunk. A progress bar goes to stderr while it runs, then
//   PPL = 12.3456 ± 0.1234   (N tokens, W windows of ctx C, S s)
// on stdout, or with --json one object: {"ppl", "ppl_stderr", "mean_nll", "tokens", "windows", "ctx", "seconds"}.
#include "runtime/perplexity.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/routing_options.h"
#include "cli/text_options.h"
#include "cli/validators.h"
#include "core/error.h"

namespace sy::cli {
namespace {

struct PerplexityOptions {
  RoutingOptions routing;
  std::string model;
  std::string text_file;
  int64_t ctx = 0;    // 0: the model's training context, at most kDefaultMaxCtx
  int64_t batch = 0;  // tokens per step; 0: the whole window
  int threads = 0;
  bool json = false;
};

constexpr int64_t kDefaultMaxCtx = 512;  // llama.cpp's default perplexity context

void print_progress(size_t done, size_t total) {
  constexpr size_t kWidth = 40;
  const size_t filled = total > 0 ? done * kWidth / total : kWidth;
  fmt::print(stderr, "\r[{:=<{}}{:<{}}] {}/{} windows", "", filled, "", kWidth - filled, done, total);
  if (done == total) fmt::print(stderr, "\n");
  std::fflush(stderr);
}

void run_perplexity(const PerplexityOptions& opt) {
  const std::string text = read_text_file(opt.text_file);
  if (text.empty()) throw Exception({ErrorCode::kInvalidInput, fmt::format("'{}' is empty", opt.text_file)});
  TextModel tm = load_text_model(opt.model);
  RoutingOptions routing = opt.routing;
  routing.inputs.push_back(opt.text_file);
  const int64_t train = tm.model->config().common.n_ctx_train;
  int64_t ctx = opt.ctx;
  if (ctx == 0) ctx = train > 0 ? std::min(train, kDefaultMaxCtx) : kDefaultMaxCtx;
  if (ctx < 2)
    throw Exception({ErrorCode::kInvalidInput, fmt::format("--ctx {} is too small: at least 2 tokens", ctx)});
  if (train > 0 && ctx > train)
    throw Exception(
        {ErrorCode::kInvalidInput, fmt::format("--ctx {} exceeds the model's training context of {}", ctx, train)});

  const auto tokens = value_or_throw(tm.tokenizer.encode(text, {.add_special = false, .parse_special = false}));
  const auto windows = value_or_throw(runtime::perplexity_windows(tokens, ctx, tm.tokenizer.vocab().special.bos));
  ContextOptions context{.threads = opt.threads, .ctx_size = ctx};
  runtime::Session session(*tm.model, session_options(context, *tm.model));
  value_or_throw(apply_routing_options(session, routing));
  // Ctrl-C ends the run after the current window: the exception unwinds through the session, which closes
  // its trace with every record of the windows evaluated so far (a second Ctrl-C kills).
  install_interrupt_handler();
  const auto result = value_or_throw(runtime::compute_perplexity(
      session, windows,
      [](size_t done, size_t total) {
        print_progress(done, total);
        if (interrupted() && done < total)
          throw Exception({ErrorCode::kInvalidInput, fmt::format("interrupted after {} of {} windows", done, total)});
      },
      opt.batch));

  const auto& s = result.stats;
  if (opt.json) {
    nlohmann::json out = {{"ppl", s.perplexity()},    {"ppl_stderr", s.perplexity_stderr()}, {"mean_nll", s.mean()},
                          {"tokens", s.count()},      {"windows", result.n_windows},         {"ctx", ctx},
                          {"seconds", result.seconds}};
    // The expert cache's traffic (docs/expert-cache.md): what a lossy --on-miss did to the experts.
    if (const auto c = session.engine().expert_store().stats())
      out["expert_cache"] = {
          {"hits", c->hits},       {"misses", c->misses},           {"bytes_read", c->bytes_read},
          {"skipped", c->skipped}, {"shadow_uses", c->shadow_uses}, {"on_miss", opt.routing.expert_cache.on_miss}};
    fmt::print("{}\n", out.dump());
  } else {
    fmt::print("PPL = {:.4f} ± {:.4f}   ({} tokens, {} windows of ctx {}, {:.2f} s)\n", s.perplexity(),
               s.perplexity_stderr(), s.count(), result.n_windows, ctx, result.seconds);
  }
}

void register_perplexity(CLI::App& app) {
  auto opt = std::make_shared<PerplexityOptions>();
  auto* cmd = app.add_subcommand("perplexity", "Perplexity of a model over a text file");
  cmd->add_option("-m,--model", opt->model, "GGUF model file")->required();
  cmd->add_option("-f,--file", opt->text_file, "Text file to score")->required();
  cmd->add_option("-c,--ctx,--ctx-size", opt->ctx,
                  "Window size in tokens, BOS included (0 = the training context, at most 512)")
      ->check(in_range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("-t,--threads", opt->threads, "Threads (default: up to 4)")->check(in_range(0, 1024));
  cmd->add_option("-b,--batch", opt->batch,
                  "Tokens per step (default 0: the whole window); 1 scores each token as decoding does (what "
                  "--on-miss sees)")
      ->check(in_range(int64_t{0}, int64_t{1} << 24));
  cmd->add_flag("--json", opt->json, "Print the result as one JSON object");
  add_routing_options(cmd, opt->routing);
  cmd->callback([opt] { run_perplexity(*opt); });
}

}  // namespace

SY_COMMAND(perplexity, register_perplexity);

}  // namespace sy::cli
