#include "server/http/openai_json.h"

#include <cmath>

namespace sy::server {
namespace {

using nlohmann::json;

std::string joined_text(const std::vector<GeneratedToken>& tokens) {
  std::string text;
  for (const auto& t : tokens) text += t.text;
  return text;
}

json bytes_of(const std::string& s) {
  json b = json::array();
  for (const char c : s) b.push_back(static_cast<int>(static_cast<unsigned char>(c)));
  return b;
}

// A logprob as JSON: -inf (a token the model gives no chance) becomes a large negative number, as JSON has no
// infinities.
double finite(float v) { return std::isfinite(v) ? static_cast<double>(v) : -9999.0; }

double rounded(float w) { return std::round(static_cast<double>(w) * 1e4) / 1e4; }

}  // namespace

std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

json error_json(const ApiError& e) {
  return {{"error",
           {{"message", e.message},
            {"type", e.type},
            {"param", e.param.empty() ? json() : json(e.param)},
            {"code", e.code.empty() ? json() : json(e.code)}}}};
}

json usage_json(const JobResult& r) {
  return {{"prompt_tokens", r.prompt_tokens},
          {"completion_tokens", r.completion_tokens},
          {"total_tokens", r.prompt_tokens + r.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", r.reused_tokens}}}};
}

const char* openai_finish_reason(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength:
    case FinishReason::kTimeout: return "length";
    default: return finish_reason_name(reason);
  }
}

json routing_tokens_json(const std::vector<GeneratedToken>& tokens) {
  json out = json::array();
  for (const auto& t : tokens) {
    if (t.id < 0) continue;
    json experts = json::array(), weights = json::array();
    for (const LayerChoice& c : t.routing) {
      experts.push_back(c.ids);
      json w = json::array();
      for (const float v : c.weights) w.push_back(rounded(v));
      weights.push_back(std::move(w));
    }
    out.push_back({{"token", t.id}, {"experts", std::move(experts)}, {"weights", std::move(weights)}});
  }
  return out;
}

json routing_json(const RoutingRequest& request, const JobResult* result, const std::vector<GeneratedToken>& tokens) {
  json r = {{"policy", request.policy.empty() ? json("server") : json(request.policy)}};
  if (result != nullptr) {
    json layers = json::array(), ids = json::array();
    for (const auto& [layer, counts] : result->load) {
      layers.push_back({{"layer", layer}, {"load", counts}});
      ids.push_back(layer);
    }
    r["moe_layers"] = std::move(ids);
    r["layers"] = std::move(layers);
  }
  if (request.give_back == RoutingRequest::Return::kPerToken) r["tokens"] = routing_tokens_json(tokens);
  return r;
}

json chat_logprobs_json(const tok::Tokenizer& tokenizer, const std::vector<GeneratedToken>& tokens) {
  json content = json::array();
  for (const auto& t : tokens) {
    if (t.id < 0) continue;
    const std::string piece = tokenizer.token_to_piece(t.id, true);
    json top = json::array();
    for (const TokenLogprob& a : t.top) {
      const std::string p = tokenizer.token_to_piece(a.id, true);
      top.push_back({{"token", p}, {"logprob", finite(a.logprob)}, {"bytes", bytes_of(p)}});
    }
    content.push_back({{"token", piece},
                       {"logprob", finite(t.logprob)},
                       {"bytes", bytes_of(piece)},
                       {"top_logprobs", std::move(top)}});
  }
  return {{"content", std::move(content)}};
}

json completion_logprobs_json(const tok::Tokenizer& tokenizer, const std::vector<GeneratedToken>& tokens,
                              size_t offset0) {
  json toks = json::array(), lps = json::array(), tops = json::array(), offsets = json::array();
  size_t offset = offset0;
  for (const auto& t : tokens) {
    if (t.id < 0) continue;
    const std::string piece = tokenizer.token_to_piece(t.id, true);
    toks.push_back(piece);
    lps.push_back(finite(t.logprob));
    json top = json::object();
    for (const TokenLogprob& a : t.top) top[tokenizer.token_to_piece(a.id, true)] = finite(a.logprob);
    tops.push_back(std::move(top));
    offsets.push_back(offset);
    offset += t.text.size();
  }
  return {{"tokens", std::move(toks)},
          {"token_logprobs", std::move(lps)},
          {"top_logprobs", std::move(tops)},
          {"text_offset", std::move(offsets)}};
}

namespace {

// A stream chunk's routing: its tokens, and which MoE layer each row of `experts` is.
json per_token_chunk_routing(const std::vector<GeneratedToken>& tokens) {
  json layers = json::array();
  for (const auto& t : tokens)
    if (t.id >= 0) {
      for (const LayerChoice& c : t.routing) layers.push_back(c.layer);
      break;
    }
  return {{"moe_layers", std::move(layers)}, {"tokens", routing_tokens_json(tokens)}};
}

// The composition's keys join the response's `routing` (created when the expert routing was not asked for).
json with_composition(json out, const ReplyHeader& h) {
  if (!h.composition.is_object()) return out;
  json& r = out["routing"];
  if (!r.is_object()) r = json::object();
  for (const auto& [key, value] : h.composition.items()) r[key] = value;
  return out;
}

json token_ids(const std::vector<GeneratedToken>& tokens) {
  json ids = json::array();
  for (const auto& t : tokens)
    if (t.id >= 0) ids.push_back(t.id);
  return ids;
}

}  // namespace

json chat_completion_json(const ReplyHeader& h, const GenerationRequest& request, const tok::Tokenizer& tokenizer,
                          const std::vector<GeneratedToken>& tokens, const JobResult& result) {
  json choice = {{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", joined_text(tokens)}}},
                 {"logprobs", request.logprobs ? chat_logprobs_json(tokenizer, tokens) : json()},
                 {"finish_reason", openai_finish_reason(result.reason)}};
  json out = {{"id", h.id},
              {"object", "chat.completion"},
              {"created", h.created},
              {"model", h.model},
              {"choices", json::array({std::move(choice)})},
              {"usage", usage_json(result)}};
  if (request.routing.give_back != RoutingRequest::Return::kNone)
    out["routing"] = routing_json(request.routing, &result, tokens);
  if (request.return_tokens) out["tokens"] = token_ids(tokens);
  return with_composition(std::move(out), h);
}

json text_completion_json(const ReplyHeader& h, const GenerationRequest& request, const tok::Tokenizer& tokenizer,
                          const std::string& echo_text, const std::vector<GeneratedToken>& tokens,
                          const JobResult& result) {
  json choice = {
      {"index", 0},
      {"text", echo_text + joined_text(tokens)},
      {"logprobs", request.logprobs ? completion_logprobs_json(tokenizer, tokens, echo_text.size()) : json()},
      {"finish_reason", openai_finish_reason(result.reason)}};
  json out = {{"id", h.id},
              {"object", "text_completion"},
              {"created", h.created},
              {"model", h.model},
              {"choices", json::array({std::move(choice)})},
              {"usage", usage_json(result)}};
  if (request.routing.give_back != RoutingRequest::Return::kNone)
    out["routing"] = routing_json(request.routing, &result, tokens);
  if (request.return_tokens) out["tokens"] = token_ids(tokens);
  return with_composition(std::move(out), h);
}

namespace {

// What a stream chunk of either endpoint carries beside the choice: the routing extension (per token as the tokens
// go, the summary with the last chunk) and, on request, the token ids.
json with_chunk_extensions(json out, const GenerationRequest& request, const std::vector<GeneratedToken>& tokens,
                           const JobResult* final_result) {
  if (request.routing.give_back == RoutingRequest::Return::kPerToken && !tokens.empty())
    out["routing"] = per_token_chunk_routing(tokens);
  if (final_result != nullptr && request.routing.give_back != RoutingRequest::Return::kNone) {
    json r = routing_json(request.routing, final_result, {});
    r.erase("tokens");
    if (out.contains("routing")) r["tokens"] = out["routing"]["tokens"];
    out["routing"] = std::move(r);
  }
  if (request.return_tokens && !tokens.empty()) out["tokens"] = token_ids(tokens);
  return out;
}

}  // namespace

json chat_chunk_json(const ReplyHeader& h, const GenerationRequest& request, const tok::Tokenizer& tokenizer,
                     const std::vector<GeneratedToken>& tokens, bool first, const JobResult* final_result) {
  json delta = json::object();
  if (first) delta["role"] = "assistant";
  const std::string text = joined_text(tokens);
  if (!text.empty() || (first && final_result == nullptr)) delta["content"] = text;
  json choice = {
      {"index", 0},
      {"delta", std::move(delta)},
      {"logprobs", request.logprobs && !tokens.empty() ? chat_logprobs_json(tokenizer, tokens) : json()},
      {"finish_reason", final_result != nullptr ? json(openai_finish_reason(final_result->reason)) : json()}};
  json out = {{"id", h.id},
              {"object", "chat.completion.chunk"},
              {"created", h.created},
              {"model", h.model},
              {"choices", json::array({std::move(choice)})}};
  return with_composition(with_chunk_extensions(std::move(out), request, tokens, final_result), h);
}

json text_chunk_json(const ReplyHeader& h, const GenerationRequest& request, const tok::Tokenizer& tokenizer,
                     const std::string& extra_text, const std::vector<GeneratedToken>& tokens,
                     const JobResult* final_result) {
  json choice = {
      {"index", 0},
      {"text", extra_text + joined_text(tokens)},
      {"logprobs", request.logprobs && !tokens.empty() ? completion_logprobs_json(tokenizer, tokens, 0) : json()},
      {"finish_reason", final_result != nullptr ? json(openai_finish_reason(final_result->reason)) : json()}};
  json out = {{"id", h.id},
              {"object", "text_completion"},
              {"created", h.created},
              {"model", h.model},
              {"choices", json::array({std::move(choice)})}};
  return with_composition(with_chunk_extensions(std::move(out), request, tokens, final_result), h);
}

json usage_chunk_json(const ReplyHeader& h, bool chat, const JobResult& result) {
  return {{"id", h.id},
          {"object", chat ? "chat.completion.chunk" : "text_completion"},
          {"created", h.created},
          {"model", h.model},
          {"choices", json::array()},
          {"usage", usage_json(result)}};
}

}  // namespace sy::server
