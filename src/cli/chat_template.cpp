// `switchyard chat-template`: renders a chat template with a conversation, for debugging prompts and for
// the byte-for-byte comparison against @huggingface/jinja (tests/cli/chat_templates.sh).
//   switchyard chat-template (-m MODEL.gguf | --template FILE) (--input CASE.json | --messages JSON)
// CASE.json: {"messages": [...], "tools": [...]?, "add_generation_prompt": bool?, "bos_token": "..."?,
//             "eos_token": "..."?, "extra": {...}?, "now": unix_seconds?}
#include "tokenizer/chat/chat_template.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "core/file_io.h"
#include "tokenizer/chat/model_template.h"

namespace sy::cli {
namespace {

constexpr size_t kMaxTemplateBytes = size_t{16} << 20;  // templates and JSON cases are kilobytes

struct ChatTemplateOptions {
  std::string model;
  std::string template_path;
  std::string input_path;
  std::string messages;
  bool add_generation_prompt = false;
};

Result<nlohmann::ordered_json> parse_json(const std::string& text, const std::string& what) {
  auto json = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return fail(ErrorCode::kInvalidInput, "{} is not valid JSON", what);
  return json;
}

// The template and the special tokens a GGUF model carries.
void load_from_model(const std::string& path, std::string& source, chat::ChatInput& input) {
  chat::ModelTemplate t = value_or_throw(chat::load_model_template(path));
  source = std::move(t.source);
  input.bos_token = std::move(t.bos_token);
  input.eos_token = std::move(t.eos_token);
}

void apply_case(const nlohmann::ordered_json& c, chat::ChatInput& input) {
  if (!c.is_object()) throw Exception(Error{ErrorCode::kInvalidInput, "the input must be a JSON object"});
  for (const auto& [key, value] : c.items()) {
    if (key == "messages") {
      input.messages = value;
    } else if (key == "tools") {
      input.tools = value;
    } else if (key == "add_generation_prompt" && value.is_boolean()) {
      input.add_generation_prompt = value.get<bool>();
    } else if ((key == "bos_token" || key == "eos_token") && value.is_string()) {
      (key == "bos_token" ? input.bos_token : input.eos_token) = value.get<std::string>();
    } else if (key == "extra" && value.is_object()) {
      input.extra = value;
    } else if (key == "now" && value.is_number_integer()) {
      input.now = static_cast<std::time_t>(value.get<int64_t>());
    } else if (key != "name" && key != "template") {
      throw Exception(Error{ErrorCode::kInvalidInput, fmt::format("unknown or mistyped input field '{}'", key)});
    }
  }
}

void run_chat_template(const ChatTemplateOptions& opt) {
  std::string source;
  chat::ChatInput input;
  if (!opt.model.empty()) load_from_model(opt.model, source, input);
  if (!opt.template_path.empty())
    source = value_or_throw(read_file(opt.template_path, "template file", kMaxTemplateBytes));
  if (opt.model.empty() && opt.template_path.empty())
    throw Exception(Error{ErrorCode::kInvalidInput, "give a model (-m) or a template file (--template)"});
  if (!opt.input_path.empty()) {
    const std::string text = value_or_throw(read_file(opt.input_path, "input file", kMaxTemplateBytes));
    apply_case(value_or_throw(parse_json(text, opt.input_path)), input);
  }
  if (!opt.messages.empty()) input.messages = value_or_throw(parse_json(opt.messages, "--messages"));
  if (opt.add_generation_prompt) input.add_generation_prompt = true;
  const std::string prompt = value_or_throw(chat::render_chat(source, input));
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
}

void register_chat_template(CLI::App& app) {
  auto opt = std::make_shared<ChatTemplateOptions>();
  auto* cmd = app.add_subcommand("chat-template", "Render a model's chat template with a conversation (debugging)");
  cmd->add_option("-m,--model", opt->model, "GGUF model whose tokenizer.chat_template and BOS/EOS tokens to use");
  cmd->add_option("--template", opt->template_path, "Jinja template file (overrides the model's)");
  cmd->add_option("--input", opt->input_path,
                  "JSON file: messages, tools, add_generation_prompt, bos/eos_token, extra, now");
  cmd->add_option("--messages", opt->messages, "Messages as a JSON array (overrides --input's)");
  cmd->add_flag("--add-generation-prompt", opt->add_generation_prompt, "End with the assistant turn's opening");
  cmd->callback([opt] { run_chat_template(*opt); });
}

}  // namespace

SY_COMMAND(chat_template, register_chat_template);

}  // namespace sy::cli
