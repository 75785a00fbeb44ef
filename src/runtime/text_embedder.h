// A sentence embedding from a language model: the mean over a text's positions of the model's final hidden
// state after the output norm (the vector the output matrix multiplies into logits), one row per token. The
// text is encoded without special tokens, prefixed with BOS when the vocabulary has one, and cut to its first
// max_tokens tokens (the model's training context at most); the BOS row is not part of the mean (it is the
// same for every text and would pull short texts together).
//
//   auto embedder = runtime::TextEmbedder::open("models/switchyard-moe-mini.q8_0.gguf", {.n_threads = 2});
//   auto v = (*embedder)->embed("def parse(path):");   // [n_embd]
//
// Thread-safety: embed() may be called from several threads at once; calls run one at a time (one engine).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "model/model.h"
#include "runtime/engine.h"
#include "tokenizer/tokenizer.h"

namespace sy::runtime {

struct TextEmbedderOptions {
  int n_threads = 1;
  int64_t max_tokens = 256;  // text tokens after BOS; also capped by the model's context
};

class TextEmbedder {
 public:
  static Result<std::unique_ptr<TextEmbedder>> open(const std::filesystem::path& path,
                                                    const TextEmbedderOptions& options);

  // [n_embd]. Fails for a text with no tokens (empty) or when the forward pass fails.
  Result<std::vector<float>> embed(std::string_view text);

  const model::Model& model() const { return *model_; }
  const tok::Tokenizer& tokenizer() const { return tokenizer_; }
  int64_t dims() const { return model_->config().common.n_embd; }

 private:
  TextEmbedder(std::unique_ptr<model::Model> model, tok::Tokenizer tokenizer, const TextEmbedderOptions& options);

  std::unique_ptr<model::Model> model_;
  tok::Tokenizer tokenizer_;
  int64_t max_tokens_;
  std::mutex mutex_;  // guards engine_ and sequence_
  Engine engine_;
  std::unique_ptr<Sequence> sequence_;
};

// Mean over positions [first, n) of a sequence's last step's hidden rows ([n][n_embd], Sequence::hidden).
std::vector<float> mean_rows(std::span<const float> rows, int64_t n_embd, int64_t first);

}  // namespace sy::runtime
