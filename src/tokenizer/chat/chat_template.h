// Chat templates: the Jinja template a model ships (tokenizer.chat_template) rendered with a conversation,
// exactly as @huggingface/jinja renders it. The template is outside data: parsing and rendering are bounded
// (nesting depth, work, output size) and every failure is an error with a line and column, never a crash.
#pragma once

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "tokenizer/chat/jinja_ast.h"
#include "tokenizer/chat/jinja_eval.h"

namespace sy::chat {

// What a template sees. JSON keeps key order (ordered_json) because `tojson` prints keys in input order.
struct ChatInput {
  // [{role, content, tool_calls?, reasoning_content? / thinking?, name?, ...}] passed through as given.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  std::optional<nlohmann::ordered_json> tools;  // absent: `tools` is undefined in the template
  bool add_generation_prompt = false;
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  // Further variables (enable_thinking, reasoning_effort, builtin_tools, …): a JSON object, one variable per key.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  // The time strftime_now() formats, in the process's local time zone; unset: the current time.
  std::optional<std::time_t> now;
};

class ChatTemplate {
 public:
  // Parses once; a syntax error or unsupported statement is reported here, naming the construct.
  static Result<ChatTemplate> parse(std::string source);

  Result<std::string> render(const ChatInput& input, RenderLimits limits = {}) const;

 private:
  ChatTemplate() = default;
  std::shared_ptr<const std::string> source_;
  std::shared_ptr<const NodeList> program_;
};

// Parse and render in one step.
Result<std::string> render_chat(std::string_view template_source, const ChatInput& input);

// The JS view of JSON data: integral numbers are integers (JSON.parse cannot tell 1.0 from 1) and object
// keys that are array indices come first in ascending order, as Object.entries lists them.
// Nesting deeper than kMaxJsonDepth is an error (the conversion recurses).
Result<Value> json_to_value(const nlohmann::ordered_json& json);

}  // namespace sy::chat
