// Request bodies of the OpenAI-compatible endpoints, parsed and validated where they enter (DESIGN.md, "Errors
// and input"): every field the server uses is checked for type and range, and an error names the field. Fields
// the server does not use are ignored, as OpenAI-compatible servers do; fields it cannot honour (n > 1, tools)
// are refused. Pure functions of the body text: no model, no sockets. Field list and semantics: docs/server.md.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sampler.h"
#include "server/core/api_error.h"

namespace sy::server {

// The extension field `routing` (docs/server.md): the `--route` grammar per request.
struct RoutingRequest {
  enum class Return { kNone, kSummary, kPerToken };
  std::string policy;     // "[LAYERS=]POLICY,..." as --route; empty: the server's policy
  std::string mask_text;  // `expert_mask` as the text of an --expert-mask file; empty: none
  std::string bias_text;  // `bias` as the text of a --route-bias file; empty: none
  Return give_back = Return::kNone;
  // Whether this request routes differently from the server (a sequence's cached prefix is reusable only by a
  // request whose routing computed the same numbers).
  bool custom() const { return !policy.empty() || !mask_text.empty() || !bias_text.empty(); }
  // Identifies the routing computation: equal keys route identically.
  std::string key() const;
};

// Defaults a request starts from: the server's sampling options (`serve --temp ...`).
struct RequestDefaults {
  runtime::SamplingParams sampling = runtime::SamplingParams::defaults();
  int32_t max_tokens = -1;  // -1: until an end-of-generation token or the context is full
};

// One generation request, from /v1/chat/completions or /v1/completions.
struct GenerationRequest {
  enum class Kind { kChat, kCompletion };
  Kind kind = Kind::kChat;
  std::string model;
  // kChat: the messages as given ({role, content} with content a string, joined text parts or null).
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  // kCompletion: the prompt as text, or as token ids when `prompt` is an array of integers.
  std::string prompt_text;
  std::vector<int32_t> prompt_tokens;
  bool prompt_is_tokens = false;

  runtime::SamplingParams sampling;
  bool seed_given = false;  // false: the server draws a seed
  int32_t max_tokens = -1;  // -1: no limit but the context
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
  int32_t top_logprobs = 0;    // 0..20
  bool echo = false;           // completions: prepend the prompt text
  bool return_tokens = false;  // extension: the generated token ids in the response (`tokens`)
  bool ignore_eos = false;     // extension (llama-server's): do not stop at end-of-generation tokens
  RoutingRequest routing;
};

// Bodies nested deeper than this are refused before parsing (a parser's recursion must not be the limit).
inline constexpr int kMaxJsonDepth = 64;
// Parses JSON text; malformed, truncated or too deeply nested text is a 400 that says where.
ApiResult<nlohmann::json> parse_json_body(std::string_view body);

ApiResult<GenerationRequest> parse_chat_request(const nlohmann::json& body, const RequestDefaults& defaults);
ApiResult<GenerationRequest> parse_completion_request(const nlohmann::json& body, const RequestDefaults& defaults);

// POST /tokenize: {"content": "...", "add_special": false, "parse_special": true, "with_pieces": false}
struct TokenizeRequest {
  std::string content;
  bool add_special = false;
  bool parse_special = true;
  bool with_pieces = false;
};
ApiResult<TokenizeRequest> parse_tokenize_request(const nlohmann::json& body);

// POST /detokenize: {"tokens": [1, 2, 3]}; ids are checked against n_vocab.
ApiResult<std::vector<int32_t>> parse_detokenize_request(const nlohmann::json& body, int64_t n_vocab);

}  // namespace sy::server
