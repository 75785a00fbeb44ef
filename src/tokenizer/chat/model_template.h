// The chat template a GGUF model carries (tokenizer.chat_template) and the texts of its BOS and EOS tokens,
// which templates print: what `chat-template -m MODEL` renders with.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"

namespace sy::chat {

struct ModelTemplate {
  std::string source;
  std::optional<std::string> bos_token;  // absent when the file names no such id or the id has no text
  std::optional<std::string> eos_token;
};

// Errors name the file: it cannot be read, or it has no tokenizer.chat_template.
Result<ModelTemplate> load_model_template(const std::string& path);

}  // namespace sy::chat
