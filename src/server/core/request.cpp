#include "server/core/request.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace sy::server {
namespace {

using nlohmann::json;

// The JSON type name a client would recognise in an error message.
const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a value";
  }
}

// A field that is absent or null: OpenAI's clients send null for "not set".
const json* field(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

tl::unexpected<ApiError> wrong_type(const std::string& param, const char* expected, const json& got) {
  return bad_request(param, fmt::format("'{}' must be {}, not {}", param, expected, type_name(got)));
}

// Sets `out` from an optional number field within [lo, hi]. Returns the error, if any.
std::optional<ApiError> read_number(const json& body, const char* name, double lo, double hi, float& out) {
  const json* v = field(body, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) return wrong_type(name, "a number", *v).value();
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    return bad_request(name, fmt::format("'{}' must be between {} and {}, not {}", name, lo, hi, v->dump())).value();
  out = static_cast<float>(d);
  return std::nullopt;
}

// An optional integer field within [lo, hi] (a number with a fraction is not an integer).
std::optional<ApiError> read_int(const json& body, const char* name, int64_t lo, int64_t hi, int64_t& out,
                                 bool& given) {
  given = false;
  const json* v = field(body, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) return wrong_type(name, "an integer", *v).value();
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return bad_request(name, fmt::format("'{}' must be at most {}", name, hi)).value();
  const int64_t i = v->get<int64_t>();
  if (i < lo || i > hi)
    return bad_request(name, fmt::format("'{}' must be between {} and {}, not {}", name, lo, hi, i)).value();
  out = i;
  given = true;
  return std::nullopt;
}

std::optional<ApiError> read_bool(const json& body, const char* name, bool& out) {
  const json* v = field(body, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) return wrong_type(name, "a boolean", *v).value();
  out = v->get<bool>();
  return std::nullopt;
}

#define SY_TRY(expr)                                                               \
  do {                                                                             \
    if (std::optional<ApiError> sy_err_ = (expr)) return tl::unexpected(*sy_err_); \
  } while (0)

constexpr int64_t kMaxTokensLimit = int64_t{1} << 24;
constexpr size_t kMaxStops = 4;  // OpenAI's limit

// The text of `content`: a string, an array of {type: "text", text} parts (joined), or null (empty).
ApiResult<std::string> content_text(const json& content, const std::string& param) {
  if (content.is_null()) return std::string();
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return wrong_type(param, "a string or an array of text parts", content);
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string p = fmt::format("{}[{}]", param, i);
    if (!part.is_object()) return wrong_type(p, "an object", part);
    const json* type = field(part, "type");
    if (type == nullptr || !type->is_string()) return bad_request(p + ".type", fmt::format("'{}.type' is missing", p));
    if (*type != "text")
      return bad_request(p + ".type", fmt::format("content parts of type '{}' are not supported (only 'text')",
                                                  type->get<std::string>()));
    const json* t = field(part, "text");
    if (t == nullptr || !t->is_string()) return bad_request(p + ".text", fmt::format("'{}.text' must be a string", p));
    text += t->get<std::string>();
  }
  return text;
}

ApiResult<nlohmann::ordered_json> parse_messages(const json& body) {
  const json* m = field(body, "messages");
  if (m == nullptr) return bad_request("messages", "'messages' is required");
  if (!m->is_array()) return wrong_type("messages", "an array", *m);
  if (m->empty()) return bad_request("messages", "'messages' must not be empty");
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t i = 0; i < m->size(); ++i) {
    const json& msg = (*m)[i];
    const std::string p = fmt::format("messages[{}]", i);
    if (!msg.is_object()) return wrong_type(p, "an object", msg);
    const json* role = field(msg, "role");
    if (role == nullptr) return bad_request(p + ".role", fmt::format("'{}.role' is required", p));
    if (!role->is_string()) return wrong_type(p + ".role", "a string", *role);
    const std::string r = role->get<std::string>();
    if (r != "system" && r != "developer" && r != "user" && r != "assistant" && r != "tool")
      return bad_request(p + ".role",
                         fmt::format("'{}.role' must be system, developer, user, assistant or tool, not '{}'", p, r));
    const auto it = msg.find("content");
    if (it == msg.end() && r != "assistant")
      return bad_request(p + ".content", fmt::format("'{}.content' is required", p));
    auto text = content_text(it == msg.end() ? json() : *it, p + ".content");
    if (!text) return tl::unexpected(text.error());
    // Templates know system, user and assistant; OpenAI's developer role is the system role of newer models.
    out.push_back({{"role", r == "developer" ? "system" : r}, {"content", std::move(*text)}});
  }
  return out;
}

std::optional<ApiError> parse_stop(const json& body, std::vector<std::string>& out) {
  const json* v = field(body, "stop");
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) {
    if (!v->get_ref<const std::string&>().empty()) out.push_back(v->get<std::string>());
    return std::nullopt;
  }
  if (!v->is_array()) return wrong_type("stop", "a string or an array of strings", *v).value();
  if (v->size() > kMaxStops)
    return bad_request("stop", fmt::format("'stop' has at most {} strings", kMaxStops)).value();
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) return wrong_type(fmt::format("stop[{}]", i), "a string", (*v)[i]).value();
    if (!(*v)[i].get_ref<const std::string&>().empty()) out.push_back((*v)[i].get<std::string>());
  }
  return std::nullopt;
}

// LAYERS key of an expert_mask / bias object: digits, '-', '+' or '*' (the file grammar checks the rest).
bool plausible_layers(const std::string& key) {
  if (key.empty() || key.size() > 64) return false;
  for (const char c : key)
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '*')) return false;
  return true;
}

// {"1-3": [0, 5], "*": [7]} as the --expert-mask text "1-3: 0 5\n*: 7\n"; a string is taken as that text.
ApiResult<std::string> layer_lists_text(const json& v, const std::string& param, bool integers) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_object()) return wrong_type(param, "an object of layer lists or a string", v);
  std::string text;
  for (const auto& [key, list] : v.items()) {
    const std::string p = fmt::format("{}.{}", param, key);
    if (!plausible_layers(key))
      return bad_request(p, fmt::format("'{}': a key is a layer N, a range N-M, N-M+K, or *", param));
    if (!list.is_array()) return wrong_type(p, "an array", list);
    text += key + ":";
    for (size_t i = 0; i < list.size(); ++i) {
      const json& e = list[i];
      if (integers ? !e.is_number_integer() : !e.is_number())
        return wrong_type(fmt::format("{}[{}]", p, i), integers ? "an integer" : "a number", e);
      text += " " + (integers ? std::to_string(e.get<int64_t>()) : fmt::format("{}", e.get<double>()));
    }
    text += "\n";
  }
  return text;
}

std::optional<ApiError> parse_routing(const json& body, RoutingRequest& out) {
  const json* r = field(body, "routing");
  if (r == nullptr) return std::nullopt;
  if (!r->is_object()) return wrong_type("routing", "an object", *r).value();
  if (const json* p = field(*r, "policy")) {
    if (!p->is_string()) return wrong_type("routing.policy", "a string", *p).value();
    out.policy = p->get<std::string>();
  }
  if (const json* m = field(*r, "expert_mask")) {
    auto text = layer_lists_text(*m, "routing.expert_mask", true);
    if (!text) return text.error();
    out.mask_text = std::move(*text);
  }
  if (const json* b = field(*r, "bias")) {
    auto text = layer_lists_text(*b, "routing.bias", false);
    if (!text) return text.error();
    out.bias_text = std::move(*text);
  }
  if (const json* g = field(*r, "return")) {
    if (!g->is_string()) return wrong_type("routing.return", "a string", *g).value();
    const std::string s = g->get<std::string>();
    if (s == "none")
      out.give_back = RoutingRequest::Return::kNone;
    else if (s == "summary")
      out.give_back = RoutingRequest::Return::kSummary;
    else if (s == "per_token")
      out.give_back = RoutingRequest::Return::kPerToken;
    else
      return bad_request("routing.return",
                         fmt::format("'routing.return' must be none, summary or per_token, not '{}'", s))
          .value();
  }
  return std::nullopt;
}

// What chat and completion requests share: sampling, limits, stops, streaming, routing.
std::optional<ApiError> parse_common(const json& body, const RequestDefaults& defaults, GenerationRequest& r) {
  if (const json* m = field(body, "model")) {
    if (!m->is_string()) return wrong_type("model", "a string", *m).value();
    r.model = m->get<std::string>();
  }
  r.sampling = defaults.sampling;
  r.max_tokens = defaults.max_tokens;
  int64_t i = 0;
  bool given = false;
  if (auto e = read_int(body, "n", 1, 1, i, given)) {
    e->message += " (one choice per request)";
    return e;
  }
  if (auto e = read_int(body, "max_tokens", 1, kMaxTokensLimit, i, given)) return e;
  if (given) r.max_tokens = static_cast<int32_t>(i);
  if (auto e = read_int(body, "max_completion_tokens", 1, kMaxTokensLimit, i, given)) return e;
  if (given) r.max_tokens = static_cast<int32_t>(i);
  if (auto e = read_number(body, "temperature", 0.0, 2.0, r.sampling.temperature)) return e;
  if (auto e = read_number(body, "top_p", 0.0, 1.0, r.sampling.top_p)) return e;
  if (auto e = read_number(body, "min_p", 0.0, 1.0, r.sampling.min_p)) return e;
  if (auto e = read_number(body, "repeat_penalty", 0.0, 100.0, r.sampling.repeat_penalty)) return e;
  if (auto e = read_int(body, "top_k", 0, 1 << 24, i, given)) return e;
  if (given) r.sampling.top_k = static_cast<int32_t>(i);
  if (auto e =
          read_int(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), i, given))
    return e;
  if (given) {
    r.seed_given = true;
    r.sampling.seed = static_cast<uint64_t>(i);
  }
  if (auto e = read_number(body, "presence_penalty", -2.0, 2.0, r.sampling.presence_penalty)) return e;
  if (auto e = read_number(body, "frequency_penalty", -2.0, 2.0, r.sampling.frequency_penalty)) return e;
  for (const char* name : {"tools", "functions"}) {
    const json* t = field(body, name);
    if (t != nullptr && !(t->is_array() && t->empty()))
      return bad_request(name, fmt::format("'{}' is not supported by this server", name)).value();
  }
  if (const json* f = field(body, "response_format")) {
    if (!f->is_object()) return wrong_type("response_format", "an object", *f).value();
    const json* t = field(*f, "type");
    if (t != nullptr && *t != "text")
      return bad_request("response_format.type", "only response_format {\"type\": \"text\"} is supported").value();
  }
  if (auto e = parse_stop(body, r.stop)) return e;
  if (auto e = read_bool(body, "stream", r.stream)) return e;
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) return wrong_type("stream_options", "an object", *so).value();
    if (auto e = read_bool(*so, "include_usage", r.include_usage)) {
      e->param = "stream_options.include_usage";
      e->message = "'stream_options.include_usage' must be a boolean";
      return e;
    }
  }
  if (auto e = read_bool(body, "return_tokens", r.return_tokens)) return e;
  if (auto e = read_bool(body, "ignore_eos", r.ignore_eos)) return e;
  return parse_routing(body, r.routing);
}

}  // namespace

std::string RoutingRequest::key() const {
  if (!custom()) return {};
  return fmt::format("{}\x1f{}\x1f{}", policy, mask_text, bias_text);
}

ApiResult<json> parse_json_body(std::string_view body) {
  // Depth first, outside strings: nlohmann's parser is iterative, but deep values recurse when they are
  // copied or destroyed, and no request needs more than a few levels.
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return bad_request("", fmt::format("the body nests JSON deeper than {} levels (at byte {})", kMaxJsonDepth, i));
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  if (body.empty()) return bad_request("", "the request body is empty; send a JSON object");
  try {
    json v = json::parse(body);
    if (!v.is_object()) return bad_request("", fmt::format("the body must be a JSON object, not {}", type_name(v)));
    return v;
  } catch (const json::exception& e) {
    return bad_request("", fmt::format("malformed JSON: {}", e.what()));
  }
}

ApiResult<GenerationRequest> parse_chat_request(const json& body, const RequestDefaults& defaults) {
  GenerationRequest r;
  r.kind = GenerationRequest::Kind::kChat;
  auto messages = parse_messages(body);
  if (!messages) return tl::unexpected(messages.error());
  r.messages = std::move(*messages);
  SY_TRY(parse_common(body, defaults, r));
  SY_TRY(read_bool(body, "logprobs", r.logprobs));
  int64_t i = 0;
  bool given = false;
  SY_TRY(read_int(body, "top_logprobs", 0, 20, i, given));
  if (given) {
    if (!r.logprobs) return bad_request("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    r.top_logprobs = static_cast<int32_t>(i);
  }
  return r;
}

ApiResult<GenerationRequest> parse_completion_request(const json& body, const RequestDefaults& defaults) {
  GenerationRequest r;
  r.kind = GenerationRequest::Kind::kCompletion;
  const json* p = field(body, "prompt");
  if (p == nullptr) return bad_request("prompt", "'prompt' is required");
  // A string, a one-element array of strings, or token ids (an array of integers, or one such array).
  if (p->is_array() && p->size() > 1 && ((*p)[0].is_string() || (*p)[0].is_array()))
    return bad_request("prompt", "one prompt per request ('prompt' has several)");
  const json* v = p;
  if (v->is_array() && v->size() == 1 && ((*v)[0].is_string() || (*v)[0].is_array())) v = &(*v)[0];
  if (v->is_string()) {
    r.prompt_text = v->get<std::string>();
  } else if (v->is_array() && !v->empty()) {
    r.prompt_is_tokens = true;
    for (size_t i = 0; i < v->size(); ++i) {
      const json& id = (*v)[i];
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > std::numeric_limits<int32_t>::max())
        return bad_request(fmt::format("prompt[{}]", i), "a token prompt is an array of non-negative integer ids");
      r.prompt_tokens.push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
  } else if (v->is_array()) {
    return bad_request("prompt", "'prompt' must not be empty");
  } else {
    return wrong_type("prompt", "a string, an array of one string, or an array of token ids", *p);
  }
  SY_TRY(parse_common(body, defaults, r));
  SY_TRY(read_bool(body, "echo", r.echo));
  // Legacy completions: `logprobs` is the number of alternatives (0..5) and implies per-token logprobs.
  int64_t i = 0;
  bool given = false;
  SY_TRY(read_int(body, "logprobs", 0, 5, i, given));
  if (given) {
    r.logprobs = true;
    r.top_logprobs = static_cast<int32_t>(i);
  }
  return r;
}

ApiResult<TokenizeRequest> parse_tokenize_request(const json& body) {
  TokenizeRequest r;
  const json* c = field(body, "content");
  if (c == nullptr) return bad_request("content", "'content' is required");
  if (!c->is_string()) return wrong_type("content", "a string", *c);
  r.content = c->get<std::string>();
  SY_TRY(read_bool(body, "add_special", r.add_special));
  SY_TRY(read_bool(body, "parse_special", r.parse_special));
  SY_TRY(read_bool(body, "with_pieces", r.with_pieces));
  return r;
}

ApiResult<std::vector<int32_t>> parse_detokenize_request(const json& body, int64_t n_vocab) {
  const json* t = field(body, "tokens");
  if (t == nullptr) return bad_request("tokens", "'tokens' is required");
  if (!t->is_array()) return wrong_type("tokens", "an array of token ids", *t);
  std::vector<int32_t> ids;
  ids.reserve(t->size());
  for (size_t i = 0; i < t->size(); ++i) {
    const json& id = (*t)[i];
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= n_vocab)
      return bad_request(fmt::format("tokens[{}]", i),
                         fmt::format("token ids are integers in [0, {}), not {}", n_vocab, id.dump()));
    ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
  }
  return ids;
}

}  // namespace sy::server
