// Fuzz target: a request body as the server's endpoints take it (server/core/request.h), up to what the scheduler
// would be handed. Byte 0 picks the endpoint (chat completions, completions, tokenize, detokenize); the rest is the
// body, through parse_json_body (size, nesting, syntax) and the endpoint's validation. Every error must name
// itself (a message and a 4xx status); every accepted request must hold the ranges the scheduler relies on.
#include <cmath>
#include <string_view>

#include "fuzz/fuzz_target.h"
#include "server/core/request.h"

namespace {

template <typename T>
bool named_error(const sy::server::ApiResult<T>& r) {
  return !r.error().message.empty() && r.error().status >= 400 && r.error().status < 500;
}

bool sane(const sy::server::GenerationRequest& g, int64_t n_vocab) {
  const auto& s = g.sampling;
  if (!std::isfinite(s.temperature) || s.temperature < 0 || !std::isfinite(s.top_p) || s.top_p < 0 || s.top_p > 1)
    return false;
  if (g.max_tokens < -1 || g.top_logprobs < 0 || g.top_logprobs > 20) return false;
  for (const int32_t id : g.prompt_tokens)
    if (id < 0 || id >= n_vocab * 1024) return false;  // ids are checked against the vocabulary later
  return g.kind != sy::server::GenerationRequest::Kind::kChat || g.messages.is_array();
}

}  // namespace

SY_FUZZ_TARGET(http_request) {
  if (size < 1) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto json = sy::server::parse_json_body(body);
  if (!json) {
    if (!named_error(json)) __builtin_trap();
    return 0;
  }
  constexpr int64_t kVocab = 151936;
  const sy::server::RequestDefaults defaults;
  switch (data[0] % 4) {
    case 0:
    case 1: {
      auto r = data[0] % 4 == 0 ? sy::server::parse_chat_request(*json, defaults)
                                : sy::server::parse_completion_request(*json, defaults);
      if (r ? !sane(*r, kVocab) : !named_error(r)) __builtin_trap();
      break;
    }
    case 2: {
      auto r = sy::server::parse_tokenize_request(*json);
      if (!r && !named_error(r)) __builtin_trap();
      break;
    }
    default: {
      auto r = sy::server::parse_detokenize_request(*json, kVocab);
      if (r) {
        for (const int32_t id : *r)
          if (id < 0 || id >= kVocab) __builtin_trap();
      } else if (!named_error(r)) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
