#include "runtime/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace sy::runtime {

Result<std::vector<PerplexityWindow>> perplexity_windows(std::span<const int32_t> tokens, int64_t ctx,
                                                         std::optional<int32_t> bos) {
  if (ctx < 2) return fail(ErrorCode::kInvalidInput, "the context must be at least 2 tokens to score any, got {}", ctx);
  const size_t chunk = static_cast<size_t>(bos ? ctx - 1 : ctx);
  std::vector<PerplexityWindow> windows;
  for (size_t start = 0; start < tokens.size(); start += chunk) {
    const auto part = tokens.subspan(start, std::min(chunk, tokens.size() - start));
    PerplexityWindow w;
    if (bos) w.tokens.push_back(*bos);
    w.tokens.insert(w.tokens.end(), part.begin(), part.end());
    w.first_scored = 1;
    if (w.tokens.size() > w.first_scored) windows.push_back(std::move(w));
  }
  if (windows.empty())
    return fail(ErrorCode::kInvalidInput, "the text has {} tokens: too few to score any (need {})", tokens.size(),
                bos ? 1 : 2);
  return windows;
}

double token_nll(std::span<const float> logits, int32_t target) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (const float l : logits) sum += std::exp(static_cast<double>(l) - max);
  return std::log(sum) + max - static_cast<double>(logits[static_cast<size_t>(target)]);
}

double NllStats::mean() const { return count_ > 0 ? sum_ / static_cast<double>(count_) : 0.0; }

double NllStats::perplexity() const { return std::exp(mean()); }

double NllStats::perplexity_stderr() const {
  if (count_ < 2) return 0.0;
  const double m = mean();
  const double var = sum_sq_ / static_cast<double>(count_) - m * m;
  return var > 0 ? perplexity() * std::sqrt(var / static_cast<double>(count_ - 1)) : 0.0;
}

Result<PerplexityResult> compute_perplexity(Session& session, std::span<const PerplexityWindow> windows,
                                            const std::function<void(size_t, size_t)>& progress, int64_t batch) {
  const auto start = std::chrono::steady_clock::now();
  PerplexityResult result;
  const auto n_vocab = static_cast<size_t>(session.n_vocab());
  std::vector<float> logits;  // [window tokens][n_vocab]
  std::vector<float> part;    // one step's, with a batch
  for (const PerplexityWindow& w : windows) {
    if (static_cast<int64_t>(w.tokens.size()) > session.n_ctx())
      return fail(ErrorCode::kOutOfRange, "a window of {} tokens exceeds the session context of {}", w.tokens.size(),
                  session.n_ctx());
    session.reset();
    if (batch <= 0 || batch >= static_cast<int64_t>(w.tokens.size())) {
      if (auto s = session.eval(w.tokens, logits); !s) return tl::unexpected(s.error());
    } else {
      logits.clear();
      const std::span<const int32_t> all(w.tokens);
      for (size_t at = 0; at < all.size(); at += static_cast<size_t>(batch)) {
        const auto chunk = all.subspan(at, std::min(all.size() - at, static_cast<size_t>(batch)));
        if (auto s = session.eval(chunk, part); !s) return tl::unexpected(s.error());
        logits.insert(logits.end(), part.begin(), part.end());
      }
    }
    for (size_t i = w.first_scored; i < w.tokens.size(); ++i) {
      const std::span<const float> row(logits.data() + (i - 1) * n_vocab, n_vocab);
      result.stats.add(token_nll(row, w.tokens[i]));
    }
    ++result.n_windows;
    if (progress) progress(result.n_windows, windows.size());
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace sy::runtime
