// Perplexity of a model over a token stream: the quality measure routing experiments compare.
//
// Rule (the same as the bundled model's training script, README.md "Perplexity"): the text is tokenized as a
// whole without BOS into t[0..n). With a BOS token, t is cut into consecutive chunks of ctx − 1 tokens (the
// last may be shorter) and each chunk is evaluated as the window [BOS] + chunk, scoring every chunk token:
// each of the n tokens is predicted exactly once, and never from an earlier chunk. Without a BOS token the
// chunks are ctx tokens long and the first token of each chunk is context only (not scored).
// perplexity = exp(mean NLL); its standard error is as llama.cpp reports it:
// ppl × sqrt((mean(NLL²) − mean(NLL)²) / (N − 1)).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"
#include "runtime/session.h"

namespace sy::runtime {

struct PerplexityWindow {
  std::vector<int32_t> tokens;  // what is evaluated: [BOS] + chunk, or the chunk
  size_t first_scored = 1;      // tokens[first_scored..] are scored, each from the logits of the token before
};

// Fails when ctx < 2 or no token would be scored.
Result<std::vector<PerplexityWindow>> perplexity_windows(std::span<const int32_t> tokens, int64_t ctx,
                                                         std::optional<int32_t> bos);

// −log softmax(logits)[target], computed stably in double.
double token_nll(std::span<const float> logits, int32_t target);

class NllStats {
 public:
  void add(double nll) {
    sum_ += nll;
    sum_sq_ += nll * nll;
    ++count_;
  }
  int64_t count() const { return count_; }
  double mean() const;
  double perplexity() const;
  double perplexity_stderr() const;  // 0 for fewer than two tokens

 private:
  double sum_ = 0, sum_sq_ = 0;
  int64_t count_ = 0;
};

struct PerplexityResult {
  NllStats stats;
  size_t n_windows = 0;
  double seconds = 0;
};

// Evaluates every window on `session` (reset before each); `progress(done, total)` after each window. `batch`:
// tokens per engine step (0: the whole window in one); 1 scores each token as decoding does, which is what
// matters for what a step's experts are (a window's prefill needs nearly every expert at once).
Result<PerplexityResult> compute_perplexity(Session& session, std::span<const PerplexityWindow> windows,
                                            const std::function<void(size_t, size_t)>& progress = {},
                                            int64_t batch = 0);

}  // namespace sy::runtime
