// One generation request as the scheduler sees it: what to run (JobInput, fixed at submission) and what came out
// (tokens, then the end). The HTTP thread that submitted the job waits on it and takes tokens as they come; the
// scheduler thread appends them. Thread-safety: take(), cancel() and the accessors may be called from any
// thread; emit() and finish() only by the scheduler.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "moe/routing.h"
#include "runtime/sampler.h"

namespace sy::server {

using Clock = std::chrono::steady_clock;

// One MoE layer's choice for one token: experts (slots ordered by score, kNoExpert padding removed) and weights.
struct LayerChoice {
  int32_t layer = 0;
  std::vector<int32_t> ids;
  std::vector<float> weights;
};

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;
};

struct GeneratedToken {
  int32_t id = -1;   // -1: no token, only text (what stop-string matching held back, released at the end)
  std::string text;  // the text this token completed (may be empty: part of a character, or held back)
  float logprob = 0;
  std::vector<TokenLogprob> top;  // the most likely alternatives, when asked
  // routing.return = per_token: the decisions of the forward pass whose logits this token was sampled from.
  std::vector<LayerChoice> routing;
};

enum class FinishReason { kStop, kLength, kCancelled, kTimeout, kError, kShutdown };
const char* finish_reason_name(FinishReason reason);  // OpenAI's finish_reason: "stop" or "length" (or ours)

struct JobInput {
  std::vector<int32_t> prompt;  // non-empty, shorter than the context
  runtime::SamplingParams sampling;
  int32_t max_tokens = -1;           // -1: until a stop token or a full context
  std::vector<int32_t> stop_tokens;  // end-of-generation ids: sampled, never emitted
  std::vector<std::string> stop_strings;
  bool logprobs = false;
  int32_t top_logprobs = 0;
  // The request's own routing policy (nullptr: the engine's) and its key (RoutingRequest::key()).
  std::unique_ptr<moe::RoutingPolicy> policy;
  std::string routing_key;
  bool routing_summary = false;    // count experts per layer over every token this request evaluates
  bool routing_per_token = false;  // GeneratedToken::routing
  Clock::time_point arrival = Clock::now();
  Clock::time_point deadline = Clock::time_point::max();
};

struct JobResult {
  FinishReason reason = FinishReason::kStop;
  std::string error;          // kError: what failed
  int64_t prompt_tokens = 0;  // the whole prompt
  int64_t reused_tokens = 0;  // of which taken from a cached prefix
  int64_t completion_tokens = 0;
  // routing.return = summary or per_token: per MoE layer, how many of this request's tokens chose each expert.
  std::vector<std::pair<int32_t, std::vector<int64_t>>> load;
};

class Job {
 public:
  explicit Job(JobInput input) : input_(std::move(input)) {}

  const JobInput& input() const { return input_; }
  JobInput& mutable_input() { return input_; }  // the scheduler moves the policy onto the sequence

  // Stops the job at the next step boundary (a client went away). Idempotent.
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  // Waits up to `wait` for output; moves the tokens produced since the last call into `out` (appended).
  // Returns true once the job has finished and every token has been taken.
  bool take(std::vector<GeneratedToken>& out, std::chrono::milliseconds wait);
  bool finished() const;
  JobResult result() const;  // complete once take() returned true

  // Scheduler side.
  void emit(GeneratedToken token);
  void finish(JobResult result);

 private:
  JobInput input_;
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<GeneratedToken> pending_;
  bool finished_ = false;
  JobResult result_;
};

}  // namespace sy::server
