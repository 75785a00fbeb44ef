// `switchyard generate -m FILE --tokens 1,2,3 -n 16 [--greedy | --temp T --top-k K --top-p P --min-p M
// --repeat-penalty R --seed S]`: prefills the tokens as one batch, then decodes n tokens one at a time and
// prints the generated ids comma-separated on one line. A stable machine interface (README.md). When the
// context fills first (the model's training context caps it), it prints what it generated, says so on
// stderr and exits 0, as `run` does.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/routing_options.h"
#include "cli/text_options.h"
#include "cli/token_list.h"
#include "cli/validators.h"
#include "core/error.h"
#include "model/model.h"
#include "runtime/sampler.h"
#include "runtime/session.h"

namespace sy::cli {
namespace {

struct GenerateOptions {
  std::string model;
  std::string tokens;
  int n_predict = 16;
  int threads = 1;
  bool greedy = false;
  runtime::SamplingParams sampling = runtime::SamplingParams::defaults();
  RoutingOptions routing;
};

void run_generate(GenerateOptions opt) {
  const std::vector<int32_t> prompt = parse_token_list(opt.tokens);
  if (prompt.empty()) throw Exception(Error{ErrorCode::kInvalidInput, "--tokens: the prompt is empty"});
  if (opt.greedy) opt.sampling.temperature = 0.0f;
  auto model = value_or_throw(model::Model::open(opt.model));
  // The session holds at most the model's training context, which may be less than prompt + n.
  runtime::Session session(*model, runtime::SessionOptions{.n_ctx = static_cast<int64_t>(prompt.size()) + opt.n_predict,
                                                           .n_threads = opt.threads});
  if (static_cast<int64_t>(prompt.size()) > session.n_ctx())
    throw Exception(Error{ErrorCode::kOutOfRange,
                          fmt::format("--tokens: the prompt has {} tokens, more than the model's context of {}",
                                      prompt.size(), session.n_ctx())});
  value_or_throw(apply_routing_options(session, opt.routing));
  install_interrupt_handler();
  runtime::Sampler sampler(opt.sampling);
  std::vector<float> logits;
  value_or_throw(session.eval(prompt, logits, runtime::Session::Logits::kLast));
  std::vector<int32_t> generated;
  bool context_full = false;
  const size_t n_vocab = static_cast<size_t>(session.n_vocab());
  for (int i = 0; i < opt.n_predict && !interrupted(); ++i) {
    const std::span<const float> last(logits.data() + logits.size() - n_vocab, n_vocab);
    const int32_t next = sampler.sample(last, session.history());
    generated.push_back(next);
    if (i + 1 == opt.n_predict) break;
    if (session.pos() >= session.n_ctx()) {  // no room to feed `next` back for another token
      context_full = true;
      break;
    }
    value_or_throw(session.eval(std::span<const int32_t>(&next, 1), logits));
  }
  fmt::print("{}\n", fmt::join(generated, ","));
  std::fflush(stdout);
  if (context_full)
    fmt::print(stderr, "stopped: context full after {} of {} tokens (the model's context is {})\n", generated.size(),
               opt.n_predict, session.n_ctx());
  else if (interrupted())
    fmt::print(stderr, "interrupted after {} of {} tokens\n", generated.size(), opt.n_predict);
}

void register_generate(CLI::App& app) {
  auto opt = std::make_shared<GenerateOptions>();
  auto* cmd = app.add_subcommand("generate", "Continue a token sequence; prints the generated ids comma-separated");
  cmd->add_option("-m,--model", opt->model, "GGUF model file")->required();
  cmd->add_option("--tokens", opt->tokens, "Comma-separated prompt token ids")->required();
  cmd->add_option("-n,--n-predict", opt->n_predict, "Tokens to generate")->check(in_range(0, 1 << 20));
  cmd->add_option("-t,--threads", opt->threads, "Threads")->check(in_range(1, 1024));
  cmd->add_flag("--greedy", opt->greedy, "Take the most likely token (lowest id on ties)");
  add_sampling_params(cmd, opt->sampling);
  cmd->add_option("--seed", opt->sampling.seed, "Random seed");
  add_routing_options(cmd, opt->routing);
  cmd->callback([opt] { run_generate(*opt); });
}

}  // namespace

SY_COMMAND(generate, register_generate);

}  // namespace sy::cli
