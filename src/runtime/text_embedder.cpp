#include "runtime/text_embedder.h"

#include <algorithm>

namespace sy::runtime {

Result<std::unique_ptr<TextEmbedder>> TextEmbedder::open(const std::filesystem::path& path,
                                                         const TextEmbedderOptions& options) {
  auto model = model::Model::open(path);
  if (!model) return tl::unexpected(model.error());
  auto tokenizer = tok::Tokenizer::from_gguf((*model)->file());
  if (!tokenizer) return tl::unexpected(tokenizer.error());
  if (options.max_tokens < 1)
    return fail(ErrorCode::kInvalidInput, "text embedder: max_tokens must be at least 1, got {}", options.max_tokens);
  return std::unique_ptr<TextEmbedder>(new TextEmbedder(std::move(*model), std::move(*tokenizer), options));
}

TextEmbedder::TextEmbedder(std::unique_ptr<model::Model> model, tok::Tokenizer tokenizer,
                           const TextEmbedderOptions& options)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      max_tokens_(options.max_tokens),
      engine_(*model_, EngineOptions{.n_threads = options.n_threads}),
      sequence_(engine_.new_sequence(SequenceOptions{.n_ctx = options.max_tokens + 1})) {}

std::vector<float> mean_rows(std::span<const float> rows, int64_t n_embd, int64_t first) {
  std::vector<double> sum(static_cast<size_t>(n_embd), 0.0);
  const int64_t n = static_cast<int64_t>(rows.size()) / n_embd;
  for (int64_t t = first; t < n; ++t)
    for (int64_t i = 0; i < n_embd; ++i) sum[static_cast<size_t>(i)] += rows[static_cast<size_t>(t * n_embd + i)];
  std::vector<float> mean(static_cast<size_t>(n_embd));
  const double count = static_cast<double>(std::max<int64_t>(1, n - first));
  for (size_t i = 0; i < mean.size(); ++i) mean[i] = static_cast<float>(sum[i] / count);
  return mean;
}

Result<std::vector<float>> TextEmbedder::embed(std::string_view text) {
  auto ids = tokenizer_.encode(text, {.add_special = false, .parse_special = false});
  if (!ids) return tl::unexpected(ids.error());
  if (ids->empty()) return fail(ErrorCode::kInvalidInput, "text embedder: the text has no tokens");
  std::vector<int32_t> tokens;
  const auto bos = tokenizer_.vocab().special.bos;
  if (bos) tokens.push_back(*bos);
  const std::lock_guard lock(mutex_);
  // The sequence's context is the model's context when that is smaller than max_tokens + 1.
  const auto room = static_cast<size_t>(sequence_->n_ctx()) - tokens.size();
  tokens.insert(tokens.end(), ids->begin(), ids->begin() + static_cast<std::ptrdiff_t>(std::min(room, ids->size())));
  if (tokens.size() == (bos ? 1u : 0u)) return fail(ErrorCode::kInvalidInput, "text embedder: no room for text tokens");
  sequence_->reset();
  const Engine::Step step{
      .sequence = sequence_.get(), .tokens = tokens, .logits = Engine::Logits::kAll, .hidden = true};
  if (auto s = engine_.step(std::span<const Engine::Step>(&step, 1)); !s) return tl::unexpected(s.error());
  return mean_rows(sequence_->hidden(), dims(), bos ? 1 : 0);
}

}  // namespace sy::runtime
