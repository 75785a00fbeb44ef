#include "tokenizer/chat/chat_template.h"

#include <algorithm>
#include <cmath>

#include "tokenizer/chat/jinja_lexer.h"
#include "tokenizer/chat/jinja_parser.h"

namespace sy::chat {
namespace {

// A canonical array index ("0", "17", not "01" or "-1") below 2^32 - 1: JS objects list these keys first.
bool is_array_index(const std::string& key, uint64_t& index) {
  if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0')) return false;
  uint64_t v = 0;
  for (const char c : key) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v >= 4294967295ULL) return false;
  index = v;
  return true;
}

}  // namespace

namespace {

Value convert_json(const nlohmann::ordered_json& json, int depth) {
  using J = nlohmann::ordered_json;
  if (depth > kMaxJsonDepth) throw TemplateError{fmt::format("input JSON nested deeper than {} levels", kMaxJsonDepth)};
  switch (json.type()) {
    case J::value_t::null: return Value::null();
    case J::value_t::boolean: return Value::from_bool(json.get<bool>());
    case J::value_t::number_integer: return Value::integer(static_cast<double>(json.get<int64_t>()));
    case J::value_t::number_unsigned: return Value::integer(static_cast<double>(json.get<uint64_t>()));
    case J::value_t::number_float: {
      const double d = json.get<double>();
      return std::isfinite(d) && std::floor(d) == d ? Value::integer(d) : Value::floating(d);
    }
    case J::value_t::string: return Value::string(json.get<std::string>());
    case J::value_t::array: {
      ArrayData items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(convert_json(item, depth + 1));
      return Value::make_array(std::move(items));
    }
    case J::value_t::object: {
      Value obj = Value::make_object();
      std::vector<std::pair<uint64_t, const std::string*>> indices;
      for (const auto& [key, item] : json.items()) {
        uint64_t index = 0;
        if (is_array_index(key, index)) indices.emplace_back(index, &key);
      }
      std::sort(indices.begin(), indices.end());
      for (const auto& [index, key] : indices) obj.object->set(*key, convert_json(json.at(*key), depth + 1));
      for (const auto& [key, item] : json.items()) {
        uint64_t index = 0;
        if (!is_array_index(key, index)) obj.object->set(key, convert_json(item, depth + 1));
      }
      return obj;
    }
    default: return Value::undefined();  // binary / discarded: not produced by JSON text
  }
}

}  // namespace

Result<Value> json_to_value(const nlohmann::ordered_json& json) {
  try {
    return convert_json(json, 0);
  } catch (const TemplateError& e) {
    return fail(ErrorCode::kInvalidInput, "chat template input: {}", e.message);
  }
}

Result<ChatTemplate> ChatTemplate::parse(std::string source) {
  auto tokens = tokenize(source);
  if (!tokens) return tl::unexpected(tokens.error());
  auto program = sy::chat::parse(*tokens, source);
  if (!program) return tl::unexpected(program.error());
  ChatTemplate t;
  t.source_ = std::make_shared<const std::string>(std::move(source));
  t.program_ = std::make_shared<const NodeList>(std::move(*program));
  return t;
}

Result<std::string> ChatTemplate::render(const ChatInput& input, RenderLimits limits) const {
  auto globals = std::make_shared<Environment>();
  add_builtin_globals(*globals, input.now.value_or(std::time(nullptr)));
  // Like the reference's Environment.set, a variable may not shadow a builtin global.
  auto declare = [&](const std::string& name, Result<Value> value) -> Status {
    if (!value) return tl::unexpected(value.error());
    if (globals->variables.count(name))
      return fail(ErrorCode::kInvalidInput, "chat template variable '{}' is already declared (a builtin)", name);
    globals->variables.emplace(name, std::move(*value));
    return {};
  };
  if (!input.extra.is_object())
    return fail(ErrorCode::kInvalidInput, "chat template extra variables must be a JSON object");
  Status st = declare("messages", json_to_value(input.messages));
  if (st && input.tools) st = declare("tools", json_to_value(*input.tools));
  if (st) st = declare("add_generation_prompt", Value::from_bool(input.add_generation_prompt));
  if (st && input.bos_token) st = declare("bos_token", Value::string(*input.bos_token));
  if (st && input.eos_token) st = declare("eos_token", Value::string(*input.eos_token));
  for (const auto& [key, value] : input.extra.items()) {
    if (!st) break;
    st = declare(key, json_to_value(value));
  }
  if (!st) return tl::unexpected(st.error());
  Interpreter interpreter(*source_, limits);
  return interpreter.render(*program_, globals);
}

Result<std::string> render_chat(std::string_view template_source, const ChatInput& input) {
  auto t = ChatTemplate::parse(std::string(template_source));
  if (!t) return tl::unexpected(t.error());
  return t->render(input);
}

}  // namespace sy::chat
