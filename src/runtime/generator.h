// Text generation on a Session: feeds a prompt, samples tokens one at a time, turns them into text through
// the streaming detokenizer and hands each complete piece of text to a callback. Stops at a stop token, at
// a token limit, when the context is full, or when an interrupt flag is raised (Ctrl-C in `chat`).
//
//   Generator gen(session, tokenizer, sampling);
//   auto stats = gen.generate(prompt_ids, {.n_predict = 64, .stop_tokens = end_of_generation_tokens(vocab)},
//                             [](std::string_view text) { fwrite(text.data(), 1, text.size(), stdout); });
//
// Not thread-safe, except that another thread (or a signal handler) may set the interrupt flag.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace sy::runtime {

enum class StopReason { kStopToken, kLimit, kContextFull, kInterrupted };
const char* stop_reason_name(StopReason reason);

struct GenerateOptions {
  int32_t n_predict = -1;                        // tokens to generate at most; -1: until a stop token or a full context
  std::vector<int32_t> stop_tokens;              // sampled but neither printed nor fed back
  const std::atomic<bool>* interrupt = nullptr;  // checked before each forward pass; not owned
};

struct GenerateStats {
  int64_t n_prompt = 0;         // tokens evaluated as the prompt (only the part not already in the session)
  double prompt_seconds = 0;    // prefill time
  int64_t n_generated = 0;      // tokens sampled and emitted (the stop token not counted)
  double generate_seconds = 0;  // from the end of the prefill to the last token
  StopReason reason = StopReason::kLimit;
  std::vector<int32_t> tokens;  // the emitted tokens
};

using TextSink = std::function<void(std::string_view text)>;

class Generator {
 public:
  // Both are borrowed and must outlive the generator.
  Generator(Session& session, const tok::Tokenizer& tokenizer, const SamplingParams& sampling)
      : session_(session), tokenizer_(tokenizer), sampler_(sampling) {}

  // `sequence` is the whole sequence the session should hold before generating (for a chat: the rendered
  // conversation so far). When the session already holds a prefix of it, only the rest is evaluated;
  // otherwise the session is reset first. Fails if the sequence is empty or does not fit the context.
  Result<GenerateStats> generate(std::span<const int32_t> sequence, const GenerateOptions& options,
                                 const TextSink& on_text);

 private:
  Session& session_;
  const tok::Tokenizer& tokenizer_;
  Sampler sampler_;
  std::vector<float> logits_;
};

// Tokens that end a generation for this vocabulary: EOS, EOT and the end-of-turn markers chat templates use
// (<|im_end|>, <|eot_id|>, <|end|>, <end_of_turn>, <|return|>, …) where the vocabulary has them as control tokens.
std::vector<int32_t> end_of_generation_tokens(const tok::Vocab& vocab);

}  // namespace sy::runtime
