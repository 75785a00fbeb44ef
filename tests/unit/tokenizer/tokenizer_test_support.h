// Small vocabularies written as GGUF files for tokenizer tests.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "format/gguf_value.h"
#include "format/gguf_writer.h"

namespace sy::tok::test {

using Metadata = std::vector<std::pair<std::string, gguf::Value>>;

// Writes a tensor-less GGUF holding `metadata` and returns its path.
inline std::filesystem::path write_gguf(const std::filesystem::path& dir, const std::string& name,
                                        const Metadata& metadata) {
  gguf::Writer w;
  for (const auto& [k, v] : metadata) w.set(k, v);
  const auto path = dir / name;
  if (!w.begin(path) || !w.finish()) return {};
  return path;
}

// A byte-level BPE vocabulary: the 256 byte symbols, "ab", "abc", a control and a user-defined token.
inline Metadata tiny_bpe_metadata() {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  // Byte symbols in GPT-2's spelling, id == byte value.
  for (int b = 0; b < 256; ++b) {
    const bool itself = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    static int next = 256;
    if (b == 0) next = 256;
    const int cp = itself ? b : next++;
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    tokens.push_back(s);
    types.push_back(1);
  }
  tokens.insert(tokens.end(), {"ab", "abc", "<|ctl|>", "<user>"});
  types.insert(types.end(), {1, 1, 3, 4});
  return {{"tokenizer.ggml.model", "gpt2"},
          {"tokenizer.ggml.pre", "qwen2"},
          {"tokenizer.ggml.tokens", gguf::make_string_array(tokens)},
          {"tokenizer.ggml.token_type", gguf::make_array(types)},
          {"tokenizer.ggml.merges", gguf::make_string_array({"a b", "ab c"})},
          {"tokenizer.ggml.bos_token_id", uint32_t{258}},
          {"tokenizer.ggml.add_bos_token", true}};
}

inline void set(Metadata& md, const std::string& key, gguf::Value value) {
  for (auto& [k, v] : md)
    if (k == key) {
      v = std::move(value);
      return;
    }
  md.emplace_back(key, std::move(value));
}

inline void erase(Metadata& md, const std::string& key) {
  std::erase_if(md, [&](const auto& kv) { return kv.first == key; });
}

}  // namespace sy::tok::test
