// What the text commands (run, chat, perplexity) share: loading a model with its tokenizer, the sampling
// and context options with llama.cpp's names and defaults, and reading a text file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "model/model.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace CLI {
class App;
}

namespace sy::cli {

struct TextModel {
  std::unique_ptr<model::Model> model;
  tok::Tokenizer tokenizer;
};
// An empty path means the bundled model (bundled_model_path()). Throws sy::Exception naming the file.
TextModel load_text_model(const std::string& path);

// The model run and chat use when no -m is given: $SWITCHYARD_MODEL, else models/switchyard-moe-mini.q8_0.gguf
// beside the build tree or in the source tree this binary was built from. Throws if none exists.
std::string bundled_model_path();

struct SamplingOptions {
  runtime::SamplingParams params = runtime::SamplingParams::defaults();
  int64_t seed = -1;  // -1: a random seed
};
// --temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n (not the seed): every command that
// samples declares them here, so they share names, ranges and the refusal of NaN and infinities.
void add_sampling_params(CLI::App* cmd, runtime::SamplingParams& p);
// add_sampling_params plus -s/--seed (-1 = random).
void add_sampling_options(CLI::App* cmd, SamplingOptions& opt);
runtime::SamplingParams sampling_params(const SamplingOptions& opt);  // resolves the random seed

struct ContextOptions {
  int threads = 0;       // 0: up to 4 of the machine's threads
  int64_t ctx_size = 0;  // 0: the model's training context
};
void add_context_options(CLI::App* cmd, ContextOptions& opt);
runtime::SessionOptions session_options(const ContextOptions& opt, const model::Model& model);

// Prompt, text and template files: large enough for any evaluation text, small enough to hold in memory.
inline constexpr size_t kMaxTextFileBytes = size_t{1} << 30;
std::string read_text_file(const std::string& path);  // throws sy::Exception naming the file

}  // namespace sy::cli
