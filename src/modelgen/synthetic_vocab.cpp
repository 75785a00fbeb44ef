#include "modelgen/synthetic_vocab.h"

#include <array>
#include <string>
#include <unordered_set>
#include <vector>

namespace sy::modelgen {
namespace {

// GPT-2's byte→unicode table: printable bytes keep their code point, the other 68 map to U+0100 onwards.
std::array<std::string, 256> byte_spellings() {
  auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); };
  auto utf8 = [](uint32_t cp) {
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else {  // every code point here is below U+0800
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
  };
  std::array<std::string, 256> out;
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b) out[static_cast<size_t>(b)] = utf8(printable(b) ? static_cast<uint32_t>(b) : next++);
  return out;
}

// Pieces whose merges make the vocabulary tokenise English text into more than bytes. "Ġ" is a space.
constexpr const char* kPieces[] = {"Ġthe",  "Ġand",    "Ġof",    "Ġto",    "Ġin",     "Ġis",   "Ġthat", "Ġit", "Ġfor",
                                   "Ġwith", "Ġas",     "Ġon",    "Ġwas",   "Ġbe",     "Ġthis", "Ġare",  "ing", "ed",
                                   "er",    "es",      "en",     "al",     "re",      "on",    "an",    "ou",  "at",
                                   "Ġa",    "Ġexpert", "Ġmodel", "Ġtoken", "Ġrouter", "ĊĊ",    "ĠĠ",    "ĠĠĠĠ"};

}  // namespace

Status add_synthetic_vocab(model::MetadataMap& map, int64_t n_vocab) {
  if (n_vocab < kMinVocab)
    return fail(ErrorCode::kInvalidInput, "{}: vocabulary size {} is below the minimum {} (256 bytes + 3 specials)",
                map.source, n_vocab, kMinVocab);
  const std::array<std::string, 256> bytes = byte_spellings();
  std::vector<std::string> tokens(bytes.begin(), bytes.end());
  std::unordered_set<std::string> known(tokens.begin(), tokens.end());
  std::vector<std::string> merges;
  const int64_t n_regular = n_vocab - 3;

  // Merge each piece left to right, one UTF-8 character at a time; every prefix becomes a token.
  for (const char* piece : kPieces) {
    const std::string p = piece;
    std::vector<std::string> chars;
    for (size_t i = 0; i < p.size();) {
      const auto c = static_cast<unsigned char>(p[i]);
      const size_t len = c < 0x80 ? 1 : (c < 0xE0 ? 2 : 3);
      chars.push_back(p.substr(i, len));
      i += len;
    }
    std::string left = chars[0];
    for (size_t i = 1; i < chars.size(); ++i) {
      std::string merged = left + chars[i];
      if (!known.count(merged)) {
        if (static_cast<int64_t>(tokens.size()) >= n_regular) break;
        merges.push_back(left + " " + chars[i]);
        tokens.push_back(merged);
        known.insert(merged);
      }
      left = merged;
    }
  }
  while (static_cast<int64_t>(tokens.size()) < n_regular) {
    std::string filler = "<filler_" + std::to_string(tokens.size()) + ">";
    tokens.push_back(filler);
  }
  const std::vector<std::string> specials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  tokens.insert(tokens.end(), specials.begin(), specials.end());

  std::vector<int32_t> types(tokens.size(), 1);                                           // NORMAL
  for (size_t i = tokens.size() - specials.size(); i < tokens.size(); ++i) types[i] = 3;  // CONTROL
  const auto eot = static_cast<uint32_t>(n_vocab - 3);

  map.set("tokenizer.ggml.model", "gpt2");
  map.set("tokenizer.ggml.pre", "qwen2");
  map.set("tokenizer.ggml.tokens", gguf::make_string_array(tokens));
  map.set("tokenizer.ggml.token_type", gguf::make_array(types));
  map.set("tokenizer.ggml.merges", gguf::make_string_array(merges));
  map.set("tokenizer.ggml.bos_token_id", eot);
  map.set("tokenizer.ggml.eos_token_id", eot);
  map.set("tokenizer.ggml.padding_token_id", eot);
  map.set("tokenizer.ggml.add_bos_token", false);
  map.set("tokenizer.chat_template",
          "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
          "{% endif %}");
  return {};
}

}  // namespace sy::modelgen
