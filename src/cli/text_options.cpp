#include "cli/text_options.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "cli/validators.h"
#include "core/error.h"
#include "core/file_io.h"

namespace sy::cli {

std::string bundled_model_path() {
  constexpr const char* kFileName = "switchyard-moe-mini.q8_0.gguf";
  if (const char* env = std::getenv("SWITCHYARD_MODEL"); env != nullptr && *env != '\0') return env;
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path() / "models" / kFileName);
    candidates.push_back(exe.parent_path().parent_path() / "models" / kFileName);
  }
  candidates.push_back(std::filesystem::path(SY_BUNDLED_MODEL_DIR) / kFileName);
  for (const auto& c : candidates)
    if (std::filesystem::is_regular_file(c, ec)) return c.string();
  throw Exception(Error{ErrorCode::kNotFound,
                        fmt::format("no -m given and the bundled model {} was not found (looked in {}); pass -m FILE "
                                    "or set SWITCHYARD_MODEL",
                                    kFileName, candidates.back().parent_path().string())});
}

TextModel load_text_model(const std::string& path) {
  auto model = value_or_throw(model::Model::open(path.empty() ? bundled_model_path() : path));
  auto tokenizer = value_or_throw(tok::Tokenizer::from_gguf(model->file()));
  return TextModel{std::move(model), std::move(tokenizer)};
}

void add_sampling_params(CLI::App* cmd, runtime::SamplingParams& p) {
  cmd->add_option("--temp", p.temperature, "Temperature (0 = greedy: the lowest id among the largest logits)")
      ->check(in_range(0.0f, 100.0f));
  cmd->add_option("--top-k", p.top_k, "Keep the k most likely tokens (0 = off)")->check(in_range(0, 1 << 24));
  cmd->add_option("--top-p", p.top_p, "Nucleus sampling mass (1 = off)")->check(in_range(0.0f, 1.0f));
  cmd->add_option("--min-p", p.min_p, "Drop tokens below min-p x the top probability (0 = off)")
      ->check(in_range(0.0f, 1.0f));
  cmd->add_option("--repeat-penalty", p.repeat_penalty, "Penalty for recent tokens (1 = off)")
      ->check(in_range(0.0f, 100.0f));
  cmd->add_option("--presence-penalty", p.presence_penalty,
                  "Subtracted from the logit of every recent token (OpenAI's presence_penalty; 0 = off)")
      ->check(in_range(-2.0f, 2.0f));
  cmd->add_option("--frequency-penalty", p.frequency_penalty,
                  "Subtracted from a recent token's logit once per occurrence (OpenAI's frequency_penalty; 0 = off)")
      ->check(in_range(-2.0f, 2.0f));
  cmd->add_option("--repeat-last-n", p.repeat_last_n, "Recent tokens the penalties consider (-1 = all)")
      ->check(in_range(-1, 1 << 24));
}

void add_sampling_options(CLI::App* cmd, SamplingOptions& opt) {
  add_sampling_params(cmd, opt.params);
  cmd->add_option("-s,--seed", opt.seed, "Random seed (-1 = random)")->check(in_range(int64_t{-1}, INT64_MAX));
}

runtime::SamplingParams sampling_params(const SamplingOptions& opt) {
  runtime::SamplingParams p = opt.params;
  p.seed = opt.seed >= 0 ? static_cast<uint64_t>(opt.seed) : std::random_device{}();
  return p;
}

void add_context_options(CLI::App* cmd, ContextOptions& opt) {
  cmd->add_option("-t,--threads", opt.threads, "Threads (default: up to 4)")->check(in_range(0, 1024));
  cmd->add_option("-c,--ctx-size", opt.ctx_size, "Context size in tokens (0 = the model's training context)")
      ->check(in_range(int64_t{0}, int64_t{1} << 24));
}

runtime::SessionOptions session_options(const ContextOptions& opt, const model::Model& model) {
  const int64_t train = model.config().common.n_ctx_train;
  if (opt.ctx_size > 0 && train > 0 && opt.ctx_size > train)
    throw Exception({ErrorCode::kInvalidInput,
                     fmt::format("-c/--ctx-size {} exceeds the model's training context of {}", opt.ctx_size, train)});
  const int64_t ctx = opt.ctx_size > 0 ? opt.ctx_size : (train > 0 ? train : 4096);
  const int threads =
      opt.threads > 0 ? opt.threads : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  return runtime::SessionOptions{.n_ctx = ctx, .n_threads = threads};
}

std::string read_text_file(const std::string& path) {
  return value_or_throw(read_file(path, "text file", kMaxTextFileBytes));
}

}  // namespace sy::cli
