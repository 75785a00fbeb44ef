// Fuzzes the chat-template pipeline (lexer, parser, interpreter): any template text must render or give an
// error with a message, never crash, hang or grow without bound. The template is rendered against a fixed
// conversation that exercises the variables real templates read (system/user/assistant/tool turns, tool
// calls, reasoning, tools), with small limits so every input finishes in milliseconds.
#include <string>

#include "fuzz/fuzz_target.h"
#include "tokenizer/chat/chat_template.h"

namespace {

const sy::chat::ChatInput& conversation() {
  static const sy::chat::ChatInput input = [] {
    sy::chat::ChatInput in;
    in.messages = nlohmann::ordered_json::parse(R"([
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Weather in Zürich?"},
      {"role": "assistant", "content": null, "reasoning_content": "call the tool", "thinking": "t",
       "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich", "n": 1.5}}}]},
      {"role": "tool", "content": "{\"temp\": 21}"},
      {"role": "assistant", "content": "<think>\nok\n</think>\n\n21 °C"}])");
    in.tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "get_weather",
      "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
      "required": ["city"]}}}])");
    in.add_generation_prompt = true;
    in.bos_token = "<s>";
    in.eos_token = "</s>";
    in.extra = nlohmann::ordered_json::parse(R"({"enable_thinking": false, "reasoning_effort": "low"})");
    in.now = 1763900000;
    return in;
  }();
  return input;
}

}  // namespace

SY_FUZZ_TARGET(chat_template) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  auto parsed = sy::chat::ChatTemplate::parse(source);
  if (!parsed) {
    if (parsed.error().message.empty()) __builtin_trap();  // every error must say something
    return 0;
  }
  const sy::chat::RenderLimits limits{
      .max_output_bytes = 1 << 20, .max_items = 1 << 16, .max_work = 1 << 20, .max_call_depth = 50};
  auto rendered = parsed->render(conversation(), limits);
  if (!rendered) {
    if (rendered.error().message.empty()) __builtin_trap();
  } else if (rendered->size() > limits.max_output_bytes) {
    __builtin_trap();  // the output limit must hold
  }
  return 0;
}
