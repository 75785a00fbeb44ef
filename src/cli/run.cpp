// `switchyard run -m FILE (-p TEXT | -f FILE) [-n N] [sampling options] [-t N] [-c N] [--no-bos]
// [--parse-special] [--ignore-eos] [--verbose-prompt]`
//
// Streams the continuation of the prompt to stdout as it is produced (the generated text only, not the
// prompt), stops at an end-of-generation token (EOS/EOT/end of turn), after -n tokens or at a full context,
// then prints one line of timings to stderr:
//   prompt: 8 tokens, 0.012 s, 666.67 tokens/s | generation: 16 tokens, 0.100 s, 160.00 tokens/s
// The prompt is tokenized as `switchyard tokenize` does with the same --no-bos / --parse-special.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/routing_options.h"
#include "cli/text_options.h"
#include "cli/validators.h"
#include "core/error.h"
#include "runtime/generator.h"

namespace sy::cli {
namespace {

struct RunOptions {
  RoutingOptions routing;
  std::string model;
  std::string prompt;
  std::string prompt_file;
  int32_t n_predict = -1;
  bool no_bos = false;
  bool parse_special = false;
  bool ignore_eos = false;
  bool verbose_prompt = false;
  SamplingOptions sampling;
  ContextOptions context;
};

// " | experts: hits H, misses M, X MiB read" when experts come from a cache; empty otherwise.
std::string expert_cache_summary(runtime::Session& session) {
  const auto stats = session.engine().expert_store().stats();
  if (!stats) return {};
  std::string line = fmt::format(" | experts: hits {}, misses {}, {:.1f} MiB read", stats->hits, stats->misses,
                                 static_cast<double>(stats->bytes_read) / (1024.0 * 1024.0));
  if (stats->prefetches > 0) line += fmt::format(", {} prefetched ({} used)", stats->prefetches, stats->prefetch_hits);
  if (stats->skipped > 0) line += fmt::format(", {} skipped", stats->skipped);
  if (stats->shadow_uses > 0) line += fmt::format(", {} from the shadow", stats->shadow_uses);
  return line;
}

double per_second(int64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0.0; }

void run_run(const RunOptions& opt) {
  const std::string text = opt.prompt_file.empty() ? opt.prompt : read_text_file(opt.prompt_file);
  if (text.empty())
    throw Exception({ErrorCode::kInvalidInput, opt.prompt_file.empty()
                                                   ? "the prompt is empty (-p)"
                                                   : fmt::format("'{}' is empty", opt.prompt_file)});
  TextModel tm = load_text_model(opt.model);
  const auto prompt =
      value_or_throw(tm.tokenizer.encode(text, {.add_special = !opt.no_bos, .parse_special = opt.parse_special}));
  if (prompt.empty()) throw Exception({ErrorCode::kInvalidInput, "the prompt gives no tokens"});
  if (opt.verbose_prompt) {
    fmt::print(stderr, "prompt: {} tokens\n", prompt.size());
    for (const int32_t id : prompt) fmt::print(stderr, "{:>8} -> '{}'\n", id, tm.tokenizer.token_to_piece(id, true));
  }

  runtime::Session session(*tm.model, session_options(opt.context, *tm.model));
  RoutingOptions routing = opt.routing;
  if (!opt.prompt_file.empty()) routing.inputs.push_back(opt.prompt_file);
  value_or_throw(apply_routing_options(session, routing));
  runtime::Generator generator(session, tm.tokenizer, sampling_params(opt.sampling));
  // Ctrl-C stops at the next token; the session then closes its trace normally (a second Ctrl-C kills).
  install_interrupt_handler();
  runtime::GenerateOptions gen;
  gen.n_predict = opt.n_predict;
  gen.interrupt = interrupt_flag();
  if (!opt.ignore_eos) gen.stop_tokens = runtime::end_of_generation_tokens(tm.tokenizer.vocab());
  bool ends_with_newline = true;
  const auto stats = value_or_throw(generator.generate(prompt, gen, [&](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    ends_with_newline = piece.back() == '\n';
  }));
  // The timing line starts a line of its own when stdout and stderr share a terminal.
  if (!ends_with_newline) fmt::print(stderr, "\n");
  fmt::print(stderr,
             "prompt: {} tokens, {:.3f} s, {:.2f} tokens/s | generation: {} tokens, {:.3f} s, {:.2f} tokens/s"
             " (stopped: {}){}\n",
             stats.n_prompt, stats.prompt_seconds, per_second(stats.n_prompt, stats.prompt_seconds), stats.n_generated,
             stats.generate_seconds, per_second(stats.n_generated, stats.generate_seconds),
             runtime::stop_reason_name(stats.reason), expert_cache_summary(session));
}

void register_run(CLI::App& app) {
  auto opt = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Continue a text prompt, streaming the generated text");
  cmd->add_option("-m,--model", opt->model, "GGUF model file (default: the bundled model)");
  auto* p = cmd->add_option("-p,--prompt", opt->prompt, "Prompt text");
  auto* f = cmd->add_option("-f,--file", opt->prompt_file, "File whose text is the prompt");
  p->excludes(f);
  cmd->add_option("-n,--n-predict", opt->n_predict, "Tokens to generate at most (-1 = until EOS or a full context)")
      ->check(in_range(-1, 1 << 24));
  cmd->add_flag("--no-bos", opt->no_bos, "Do not add BOS/EOS even where the vocabulary asks for them");
  cmd->add_flag("--parse-special", opt->parse_special, "Recognise control tokens written in the prompt");
  cmd->add_flag("--ignore-eos", opt->ignore_eos, "Do not stop at end-of-generation tokens");
  cmd->add_flag("--verbose-prompt", opt->verbose_prompt, "Print the prompt's tokens to stderr first");
  add_sampling_options(cmd, opt->sampling);
  add_context_options(cmd, opt->context);
  add_routing_options(cmd, opt->routing);
  cmd->callback([opt, p, f] {
    if (p->count() == 0 && f->count() == 0)
      throw Exception({ErrorCode::kInvalidInput, "give a prompt: -p TEXT or -f FILE"});
    run_run(*opt);
  });
}

}  // namespace

SY_COMMAND(run, register_run);

}  // namespace sy::cli
