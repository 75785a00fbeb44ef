// Fuzz target: tokenizing arbitrary bytes with real vocabularies (the conformance files). The first byte picks
// the vocabulary and the options; the rest is the text. Checks that encoding never fails or crashes, every id
// is in range, and decoding gives the text back (as valid UTF-8) wherever the vocabulary can spell it, with an
// SPM vocabulary's U+2581 read as the space it stands for.
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "format/gguf_reader.h"
#include "fuzz/fuzz_target.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("SY_SHARED_DIR")) return env;
#ifdef SY_SHARED_DIR
  return SY_SHARED_DIR;
#else
  return "../shared";
#endif
}

// Loaded once: vocabularies are read-only and the Tokenizer is thread-safe.
const std::vector<std::unique_ptr<sy::tok::Tokenizer>>& tokenizers() {
  static const auto all = [] {
    std::vector<std::unique_ptr<sy::tok::Tokenizer>> out;
    const auto dir = shared_dir() / "conformance";
    for (const auto& rel : {"models/qwen3moe-tiny.q8_0.gguf", "tokenizer/ggml-vocab-llama-spm.gguf",
                            "tokenizer/ggml-vocab-deepseek-llm.gguf", "tokenizer/ggml-vocab-gpt-2.gguf"}) {
      auto file = sy::gguf::File::open(dir / rel);
      if (!file) continue;
      auto t = sy::tok::Tokenizer::from_gguf(*file);
      if (t) out.push_back(std::make_unique<sy::tok::Tokenizer>(std::move(*t)));
    }
    if (out.empty()) fprintf(stderr, "tokenizer_encode fuzz: no vocabulary under %s\n", dir.c_str());
    return out;
  }();
  return all;
}

// What decode(encode(text)) gives back: the text as valid UTF-8 and, for an SPM vocabulary, with every U+2581
// read as a space. SentencePiece writes a space as U+2581 before it looks the pieces up, so a U+2581 in the
// text and a space are the same piece and decode to a space (llama.cpp gives the same ids and text).
std::string expected_decode(const std::string& text, bool spm) {
  std::string out = sy::tok::sanitize_utf8(text);
  if (!spm) return out;
  constexpr std::string_view kSpmSpace = "\xE2\x96\x81";
  for (size_t pos = out.find(kSpmSpace); pos != std::string::npos; pos = out.find(kSpmSpace, pos + 1))
    out.replace(pos, kSpmSpace.size(), " ");
  return out;
}

}  // namespace

SY_FUZZ_TARGET(tokenizer_encode) {
  const auto& all = tokenizers();
  if (size == 0 || all.empty()) return 0;
  const uint8_t selector = data[0];
  const sy::tok::Tokenizer& tok = *all[selector % all.size()];
  const sy::tok::EncodeOptions options{.add_special = (selector & 0x10) != 0, .parse_special = (selector & 0x20) != 0};
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto ids = tok.encode(text, options);
  if (!ids) abort();  // encoding valid vocabularies never fails
  for (sy::tok::TokenId id : *ids)
    if (id < 0 || static_cast<size_t>(id) >= tok.size()) abort();
  const std::string decoded = tok.decode(*ids);
  if (!sy::tok::is_valid_utf8(decoded)) abort();
  // Without special tokens or BOS the text must come back (invalid bytes as U+FFFD). SPM vocabularies
  // put a space after special tokens, so only their plain case is checked.
  const bool spm = tok.vocab().kind == sy::tok::VocabKind::kSpm;
  if (!options.parse_special && !options.add_special && !(spm && text.find("<") != std::string::npos) &&
      decoded != expected_decode(text, spm))
    abort();
  return 0;
}
