// `switchyard logits -m FILE --tokens 1,2,3 [-t/--threads N] --out FILE.bin`: runs the tokens as one batch and
// writes the logits of every position as little-endian float32 [n_tokens][n_vocab], row-major. A stable
// machine interface (README.md) used to compare against other engines.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/routing_options.h"
#include "cli/token_list.h"
#include "cli/validators.h"
#include "core/error.h"
#include "core/file_io.h"
#include "model/model.h"
#include "runtime/session.h"

namespace sy::cli {
namespace {

struct LogitsOptions {
  std::string model;
  std::string tokens;
  std::string out;
  int threads = 1;
  RoutingOptions routing;
};

void run_logits(const LogitsOptions& opt) {
  const std::vector<int32_t> tokens = parse_token_list(opt.tokens);
  const std::filesystem::path inputs[] = {opt.model, opt.routing.expert_mask, opt.routing.route_bias};
  value_or_throw(check_output_path(opt.out, inputs, "--out"));
  auto model = value_or_throw(model::Model::open(opt.model));
  runtime::Session session(
      *model, runtime::SessionOptions{.n_ctx = static_cast<int64_t>(tokens.size()), .n_threads = opt.threads});
  value_or_throw(apply_routing_options(session, opt.routing));
  std::vector<float> logits;
  value_or_throw(session.eval(tokens, logits));
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(opt.out.c_str(), "wb"), &std::fclose);
  if (!f) throw Exception(Error{ErrorCode::kIo, fmt::format("cannot open {} for writing", opt.out)});
  static_assert(std::endian::native == std::endian::little, "the output format is little-endian float32");
  if (std::fwrite(logits.data(), sizeof(float), logits.size(), f.get()) != logits.size() || std::fflush(f.get()) != 0)
    throw Exception(Error{ErrorCode::kIo, fmt::format("writing {} failed", opt.out)});
}

void register_logits(CLI::App& app) {
  auto opt = std::make_shared<LogitsOptions>();
  auto* cmd = app.add_subcommand("logits", "Write the logits of every position of a token sequence (float32 LE)");
  cmd->add_option("-m,--model", opt->model, "GGUF model file")->required();
  cmd->add_option("--tokens", opt->tokens, "Comma-separated token ids")->required();
  cmd->add_option("--out", opt->out, "Output file: float32 [n_tokens][n_vocab]")->required();
  cmd->add_option("-t,--threads", opt->threads, "Threads")->check(in_range(1, 1024));
  add_routing_options(cmd, opt->routing);
  cmd->callback([opt] { run_logits(*opt); });
}

}  // namespace

SY_COMMAND(logits, register_logits);

}  // namespace sy::cli
