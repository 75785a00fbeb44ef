#include "runtime/generator.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <string_view>

namespace sy::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool interrupted(const GenerateOptions& o) { return o.interrupt != nullptr && o.interrupt->load(); }

}  // namespace

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kStopToken: return "stop token";
    case StopReason::kLimit: return "token limit";
    case StopReason::kContextFull: return "context full";
    case StopReason::kInterrupted: return "interrupted";
  }
  return "?";
}

Result<GenerateStats> Generator::generate(std::span<const int32_t> sequence, const GenerateOptions& options,
                                          const TextSink& on_text) {
  if (sequence.empty()) return fail(ErrorCode::kInvalidInput, "the prompt has no tokens");
  if (static_cast<int64_t>(sequence.size()) > session_.n_ctx())
    return fail(ErrorCode::kOutOfRange, "the prompt has {} tokens, more than the context of {} (raise -c/--ctx-size)",
                sequence.size(), session_.n_ctx());
  for (const int32_t id : sequence)
    if (id < 0 || id >= session_.n_vocab())
      return fail(ErrorCode::kInvalidInput, "token id {} is outside the vocabulary of {}", id, session_.n_vocab());

  // Reuse what the session already evaluated; at least one token must be fed to get fresh logits.
  const auto& held = session_.history();
  const bool extends = held.size() < sequence.size() && std::equal(held.begin(), held.end(), sequence.begin());
  if (!extends) session_.reset();
  const std::span<const int32_t> fresh = sequence.subspan(session_.history().size());

  GenerateStats stats;
  stats.n_prompt = static_cast<int64_t>(fresh.size());
  const auto prefill_start = Clock::now();
  if (interrupted(options)) {
    stats.reason = StopReason::kInterrupted;
    return stats;
  }
  if (auto s = session_.eval(fresh, logits_, Session::Logits::kLast); !s) return tl::unexpected(s.error());
  stats.prompt_seconds = seconds_since(prefill_start);

  const auto n_vocab = static_cast<size_t>(session_.n_vocab());
  tok::Detokenizer detok(tokenizer_, /*special=*/false, /*strip_space_prefix=*/false);
  const auto gen_start = Clock::now();
  const float* last = logits_.data() + logits_.size() - n_vocab;
  while (true) {
    if (options.n_predict >= 0 && stats.n_generated >= options.n_predict) {
      stats.reason = StopReason::kLimit;
      break;
    }
    if (interrupted(options)) {
      stats.reason = StopReason::kInterrupted;
      break;
    }
    const int32_t next = sampler_.sample(std::span<const float>(last, n_vocab), session_.history());
    if (std::find(options.stop_tokens.begin(), options.stop_tokens.end(), next) != options.stop_tokens.end()) {
      stats.reason = StopReason::kStopToken;
      break;
    }
    stats.tokens.push_back(next);
    ++stats.n_generated;
    if (const std::string text = detok.push(next); !text.empty()) on_text(text);
    // The last token is only fed when another will be sampled after it.
    if (options.n_predict >= 0 && stats.n_generated >= options.n_predict) {
      stats.reason = StopReason::kLimit;
      break;
    }
    if (session_.pos() >= session_.n_ctx()) {
      stats.reason = StopReason::kContextFull;
      break;
    }
    if (interrupted(options)) {
      stats.reason = StopReason::kInterrupted;
      break;
    }
    if (auto s = session_.eval(std::span<const int32_t>(&next, 1), logits_, Session::Logits::kLast); !s)
      return tl::unexpected(s.error());
    last = logits_.data();
  }
  if (const std::string rest = detok.finish(); !rest.empty()) on_text(rest);
  stats.generate_seconds = seconds_since(gen_start);
  return stats;
}

std::vector<int32_t> end_of_generation_tokens(const tok::Vocab& vocab) {
  std::vector<int32_t> out;
  auto add = [&](int32_t id) {
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  };
  if (vocab.special.eos) add(*vocab.special.eos);
  if (vocab.special.eot) add(*vocab.special.eot);
  // End-of-turn markers of the chat templates we know (Qwen/ChatML, Llama 3, Phi, Gemma, gpt-oss, DeepSeek).
  static constexpr std::array<std::string_view, 9> kEndOfTurn = {
      "<|im_end|>",   "<|eot_id|>", "<|end|>",         "<end_of_turn>",
      "<|return|>",   "<|call|>",   "<|end_of_text|>", "<｜end▁of▁sentence｜>",
      "<|endoftext|>"};
  for (const std::string_view name : kEndOfTurn) {
    const auto id = vocab.find(name);
    if (id && vocab.type(*id) == tok::TokenType::kControl) add(*id);
  }
  return out;
}

}  // namespace sy::runtime
