#include "coe/llm_router.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "coe/embedding_router.h"
#include "runtime/engine.h"
#include "runtime/perplexity.h"
#include "tokenizer/tokenizer.h"

namespace sy::coe {
namespace {

constexpr int64_t kMinPromptTokens = 16;

struct Candidate {
  std::string model;
  std::vector<int32_t> tokens;  // " NAME\n"
};

class LlmRouter final : public PromptRouter {
 public:
  LlmRouter(const Composition& composition, std::unique_ptr<model::Model> model, tok::Tokenizer tokenizer,
            std::vector<int32_t> head, std::vector<int32_t> tail, std::vector<Candidate> candidates, int64_t n_ctx,
            int n_threads)
      : model_(std::move(model)),
        tokenizer_(std::move(tokenizer)),
        head_(std::move(head)),
        tail_(std::move(tail)),
        candidates_(std::move(candidates)),
        threshold_(composition.router.threshold),
        default_model_(composition.default_model),
        engine_(*model_, runtime::EngineOptions{.n_threads = n_threads}),
        sequence_(engine_.new_sequence({.n_ctx = n_ctx})) {}

  RouterKind kind() const override { return RouterKind::kLlm; }

  Result<RouteDecision> route(std::string_view prompt) override {
    auto ids = tokenizer_.encode(prompt, {.add_special = false, .parse_special = false});
    if (!ids) return tl::unexpected(ids.error());
    size_t longest = 0;
    for (const Candidate& c : candidates_) longest = std::max(longest, c.tokens.size());
    std::vector<int32_t> context = head_;
    const size_t room = static_cast<size_t>(sequence_->n_ctx()) - head_.size() - tail_.size() - longest;
    context.insert(context.end(), ids->begin(),
                   ids->begin() + static_cast<std::ptrdiff_t>(std::min(room, ids->size())));
    context.insert(context.end(), tail_.begin(), tail_.end());

    std::vector<double> logp(candidates_.size(), 0.0);
    {
      const std::lock_guard lock(mutex_);
      sequence_->reset();
      if (auto s = engine_.step(*sequence_, context, runtime::Engine::Logits::kLast); !s)
        return tl::unexpected(s.error());
      const std::vector<float> last(sequence_->logits().begin(), sequence_->logits().end());
      const auto n_vocab = static_cast<size_t>(engine_.n_vocab());
      for (size_t c = 0; c < candidates_.size(); ++c) {
        const std::vector<int32_t>& name = candidates_[c].tokens;
        logp[c] = -runtime::token_nll(last, name[0]);
        if (name.size() > 1) {
          sequence_->truncate(static_cast<int64_t>(context.size()));
          // Every name token but the last is fed; row i predicts name[i + 1].
          const std::span<const int32_t> feed(name.data(), name.size() - 1);
          if (auto s = engine_.step(*sequence_, feed, runtime::Engine::Logits::kAll); !s)
            return tl::unexpected(s.error());
          const std::span<const float> rows = sequence_->logits();
          for (size_t i = 0; i + 1 < name.size(); ++i)
            logp[c] -= runtime::token_nll(rows.subspan(i * n_vocab, n_vocab), name[i + 1]);
        }
      }
    }
    const double max = *std::max_element(logp.begin(), logp.end());
    double sum = 0;
    for (const double l : logp) sum += std::exp(l - max);
    const auto best = static_cast<size_t>(std::max_element(logp.begin(), logp.end()) - logp.begin());
    RouteDecision d;
    d.confidence = 1.0 / sum;  // exp(max − max) / sum
    if (d.confidence < threshold_) {
      d.model = default_model_;
      d.reason = fmt::format("scorer chose {} at {:.2f} (log-prob {:.2f}), below threshold {:.2f}: default model",
                             candidates_[best].model, d.confidence, logp[best], threshold_);
    } else {
      d.model = candidates_[best].model;
      d.reason = fmt::format("scorer chose {} at {:.2f} (log-prob {:.2f})", d.model, d.confidence, logp[best]);
    }
    return d;
  }

 private:
  std::unique_ptr<model::Model> model_;
  tok::Tokenizer tokenizer_;
  std::vector<int32_t> head_, tail_;  // BOS + "Models:\n..." + "Text: ", and "\nModel:"
  std::vector<Candidate> candidates_;
  double threshold_;
  std::string default_model_;
  std::mutex mutex_;  // guards engine_ and sequence_
  runtime::Engine engine_;
  std::unique_ptr<runtime::Sequence> sequence_;
};

}  // namespace

Result<std::unique_ptr<PromptRouter>> make_llm_router(const Composition& composition, const RouterOptions& options) {
  const std::string& origin = composition.source.string();
  const std::filesystem::path path = router_model_path(composition, composition.router.scorer);
  auto model = model::Model::open(path);
  if (!model)
    return fail(model.error().code, "{}: [router] scorer '{}': {}", origin, composition.router.scorer,
                model.error().message);
  auto tokenizer = tok::Tokenizer::from_gguf((*model)->file());
  if (!tokenizer)
    return fail(tokenizer.error().code, "{}: [router] scorer '{}': {}", origin, composition.router.scorer,
                tokenizer.error().message);
  const auto encode = [&](const std::string& text) {
    return tokenizer->encode(text, {.add_special = false, .parse_special = false});
  };
  std::string head_text = "Models:\n";
  for (const ModelEntry& m : composition.models)
    head_text += fmt::format("{}: {}\n", m.name, m.description.empty() ? m.name : m.description);
  head_text += "Text: ";
  auto head = encode(head_text);
  auto tail = encode("\nModel:");
  if (!head) return tl::unexpected(head.error());
  if (!tail) return tl::unexpected(tail.error());
  if (const auto bos = tokenizer->vocab().special.bos) head->insert(head->begin(), *bos);
  std::vector<Candidate> candidates;
  size_t longest = 0;
  for (const ModelEntry& m : composition.models) {
    auto ids = encode(" " + m.name + "\n");
    if (!ids) return tl::unexpected(ids.error());
    longest = std::max(longest, ids->size());
    candidates.push_back({m.name, std::move(*ids)});
  }
  const int64_t train = (*model)->config().common.n_ctx_train;
  const int64_t n_ctx = train > 0 ? std::min<int64_t>(train, 4096) : 4096;
  const auto fixed = static_cast<int64_t>(head->size() + tail->size() + longest);
  if (n_ctx - fixed < kMinPromptTokens)
    return fail(ErrorCode::kInvalidInput,
                "{}: the model descriptions and names take {} tokens of the scorer's context of {}: too few left "
                "for the prompt (at least {})",
                origin, fixed, n_ctx, kMinPromptTokens);
  return std::make_unique<LlmRouter>(composition, std::move(*model), std::move(*tokenizer), std::move(*head),
                                     std::move(*tail), std::move(candidates), n_ctx, options.n_threads);
}

}  // namespace sy::coe
