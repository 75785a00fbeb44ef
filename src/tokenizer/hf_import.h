// Imports a Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) as a GGUF vocabulary: the same
// `tokenizer.ggml.*` keys a model GGUF carries, so `switchyard tokenize` and the engine read it like any other.
// Supported: byte-level BPE (the tokenizers of Qwen, DeepSeek, gpt-oss, Llama 3, GPT-2, OLMo); the
// pre-tokenizer is recognised by its regexes against the pre-tokenizer table.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/vocab.h"

namespace sy::tok {

struct HfImportOptions {
  std::optional<std::string> pre;  // force this `tokenizer.ggml.pre` instead of recognising it
};

struct HfImport {
  Vocab vocab;
  std::vector<std::string> warnings;  // things the vocabulary does that a GGUF vocabulary cannot say
};

// `dir` holds tokenizer.json and optionally tokenizer_config.json and chat_template.jinja.
Result<HfImport> import_hf_tokenizer(const std::filesystem::path& dir, const HfImportOptions& options = {});

// The same files' contents, already read (fuzzing, tests); `dir` only names them in errors.
struct HfTokenizerFiles {
  std::filesystem::path dir{};
  std::string tokenizer_json{};
  std::optional<std::string> tokenizer_config_json{};  // tokenizer_config.json, when there is one
  std::optional<std::string> chat_template{};          // chat_template.jinja, when there is one
};
Result<HfImport> import_hf_tokenizer(const HfTokenizerFiles& files, const HfImportOptions& options = {});

// Writes a vocabulary-only GGUF (no tensors). `name` goes to general.name.
Status write_vocab_gguf(const Vocab& vocab, const std::filesystem::path& path, const std::string& name);

}  // namespace sy::tok
