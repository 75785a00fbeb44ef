#include "tokenizer/chat/model_template.h"

#include "format/gguf_reader.h"

namespace sy::chat {

Result<ModelTemplate> load_model_template(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file) return tl::unexpected(file.error());
  const auto* tmpl = file->find("tokenizer.chat_template");
  if (!tmpl || !tmpl->as_string()) return fail(ErrorCode::kNotFound, "'{}' has no tokenizer.chat_template", path);
  ModelTemplate out{.source = *tmpl->as_string()};
  const auto* tokens = file->find("tokenizer.ggml.tokens");
  const auto* list = tokens ? tokens->as_array() : nullptr;
  auto token_text = [&](const char* key) -> std::optional<std::string> {
    const auto* id = file->find(key);
    if (!id || !list || !id->as_int()) return std::nullopt;
    const int64_t i = *id->as_int();
    if (i < 0 || static_cast<size_t>(i) >= list->values().size() || !list->values()[static_cast<size_t>(i)].as_string())
      return std::nullopt;
    return *list->values()[static_cast<size_t>(i)].as_string();
  };
  out.bos_token = token_text("tokenizer.ggml.bos_token_id");
  out.eos_token = token_text("tokenizer.ggml.eos_token_id");
  return out;
}

}  // namespace sy::chat
