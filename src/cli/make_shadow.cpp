// `switchyard make-shadow -m MODEL -t q2_k|q3_k|q4_0 -o SHADOW.gguf`: writes a low-bit copy of the model's routed
// experts for `--on-miss low-bit --shadow SHADOW.gguf` (model/shadow.h, docs/expert-cache.md).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/validators.h"
#include "core/error.h"
#include "core/file_io.h"
#include "model/model.h"
#include "model/shadow.h"

namespace sy::cli {
namespace {

struct MakeShadowOptions {
  std::string model;
  std::string type = "q4_0";
  std::string output;
  int threads = 0;
  bool quiet = false;
};

void run_make_shadow(const MakeShadowOptions& opt) {
  const auto type = parse_tensor_type(opt.type);
  if (!type || !model::is_shadow_type(*type))
    throw Exception(Error{ErrorCode::kInvalidInput,
                          fmt::format("-t/--type: '{}' is not a shadow type (q2_k, q3_k, q4_0)", opt.type)});
  const std::filesystem::path inputs[] = {opt.model};
  value_or_throw(check_output_path(opt.output, inputs, "-o/--output"));
  auto model = value_or_throw(model::Model::open(opt.model));
  const int threads =
      opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto start = std::chrono::steady_clock::now();
  model::ShadowWriteOptions w{.type = *type, .n_threads = threads};
  if (!opt.quiet)
    w.on_progress = [](size_t done, size_t all) {
      fmt::print(stderr, "\r  tensor {}/{}   ", done, all);
      std::fflush(stderr);
    };
  const model::ShadowWriteSummary summary = value_or_throw(model::write_shadow(*model, opt.output, w));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!opt.quiet) fmt::print(stderr, "\n");
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(opt.output, ec);
  fmt::print(stderr, "wrote {} ({:.1f} MiB, {}) in {:.1f} s, {} threads\n", opt.output,
             ec ? 0.0 : static_cast<double>(bytes) / (1024.0 * 1024.0), type_name(*type), secs, threads);
  if (summary.n_fallback > 0)
    fmt::print(stderr, "{} of {} tensors are q4_0: their rows do not fill {}'s 256-element blocks\n",
               summary.n_fallback, summary.n_tensors, type_name(*type));
}

void register_make_shadow(CLI::App& app) {
  auto opt = std::make_shared<MakeShadowOptions>();
  auto* cmd = app.add_subcommand(
      "make-shadow", "Write a low-bit copy of a model's routed experts for --on-miss low-bit (docs/expert-cache.md)");
  cmd->add_option("-m,--model", opt->model, "GGUF model file")->required();
  cmd->add_option("-t,--type", opt->type, "Shadow type: q2_k, q3_k or q4_0")
      ->capture_default_str()
      ->check(CLI::IsMember({"q2_k", "q3_k", "q4_0", "Q2_K", "Q3_K", "Q4_0"}));
  cmd->add_option("-o,--output", opt->output, "Output GGUF file")->required();
  cmd->add_option("-j,--threads", opt->threads, "Threads (default: all cores)")->check(in_range(0, 1024));
  cmd->add_flag("-q,--quiet", opt->quiet, "No progress line");
  cmd->callback([opt] { run_make_shadow(*opt); });
}

}  // namespace

SY_COMMAND(make_shadow, register_make_shadow);

}  // namespace sy::cli
