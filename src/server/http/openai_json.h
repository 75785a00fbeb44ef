// The OpenAI response shapes (chat.completion, chat.completion.chunk, text_completion, error objects, usage,
// logprobs) and switchyard's `routing` extension, built from what a job produced. No sockets: the HTTP layer
// sends what these return. Text from the model may hold bytes that are not UTF-8 (a token can be part of a
// character): dump() replaces them, so every body is valid JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/core/api_error.h"
#include "server/core/job.h"
#include "server/core/request.h"
#include "tokenizer/tokenizer.h"

namespace sy::server {

// One response's identity: "chatcmpl-…" / "cmpl-…", its creation time and the model id.
struct ReplyHeader {
  std::string id;
  int64_t created = 0;
  std::string model;
  // A composition's choice of model ({model, category, confidence, reason, load_seconds}): its keys go into the
  // response's top-level `routing` object, beside the expert routing's. Null: none (serve -m).
  nlohmann::json composition;
};

// JSON text with invalid UTF-8 replaced (U+FFFD), compact.
std::string dump(const nlohmann::json& value);

nlohmann::json error_json(const ApiError& error);

nlohmann::json usage_json(const JobResult& result);

// The `routing` extension of a response: the policy asked for, loads per MoE layer, and for per_token the
// experts and weights of every generated token (tokens[i].experts[j] = experts of MoE layer moe_layers[j]).
nlohmann::json routing_json(const RoutingRequest& request, const JobResult* result,
                            const std::vector<GeneratedToken>& tokens);
// The per-token part alone (a stream chunk's `routing`).
nlohmann::json routing_tokens_json(const std::vector<GeneratedToken>& tokens);

// Chat logprobs ({"content": [{token, logprob, bytes, top_logprobs}]}) for the tokens with an id.
nlohmann::json chat_logprobs_json(const tok::Tokenizer& tokenizer, const std::vector<GeneratedToken>& tokens);
// Legacy completions logprobs ({tokens, token_logprobs, top_logprobs, text_offset}); offsets start at `offset0`.
nlohmann::json completion_logprobs_json(const tok::Tokenizer& tokenizer, const std::vector<GeneratedToken>& tokens,
                                        size_t offset0);

// OpenAI's finish_reason: a timeout ends a reply as "length" (as llama-server's time limit does).
const char* openai_finish_reason(FinishReason reason);

// A whole non-streamed reply.
nlohmann::json chat_completion_json(const ReplyHeader& h, const GenerationRequest& request,
                                    const tok::Tokenizer& tokenizer, const std::vector<GeneratedToken>& tokens,
                                    const JobResult& result);
nlohmann::json text_completion_json(const ReplyHeader& h, const GenerationRequest& request,
                                    const tok::Tokenizer& tokenizer, const std::string& echo_text,
                                    const std::vector<GeneratedToken>& tokens, const JobResult& result);

// Stream chunks. `tokens` are those since the previous chunk; the final chunk has the finish reason (and the
// routing summary when asked); the usage chunk has no choices. A header's `composition` goes into every chunk
// built with it (the server sends it with the first chunk only).
nlohmann::json chat_chunk_json(const ReplyHeader& h, const GenerationRequest& request, const tok::Tokenizer& tokenizer,
                               const std::vector<GeneratedToken>& tokens, bool first, const JobResult* final_result);
nlohmann::json text_chunk_json(const ReplyHeader& h, const GenerationRequest& request, const tok::Tokenizer& tokenizer,
                               const std::string& extra_text, const std::vector<GeneratedToken>& tokens,
                               const JobResult* final_result);
nlohmann::json usage_chunk_json(const ReplyHeader& h, bool chat, const JobResult& result);

}  // namespace sy::server
