// UTF-8 helpers for the tokenizer: decoding with validation, and the rules the streaming detokenizer uses to
// hold back a multi-byte sequence that is not complete yet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sy::tok {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

struct DecodedChar {
  uint32_t cp = kReplacementChar;
  size_t len = 1;      // bytes consumed (>= 1 even when invalid, so loops always advance)
  bool valid = false;  // false: an invalid or truncated sequence; cp is U+FFFD and len is 1
};

// Decodes the code point starting at s[pos] (pos < s.size()). Rejects overlong forms, surrogates and values
// past U+10FFFF, as the UTF-8 definition does.
DecodedChar decode_utf8(std::string_view s, size_t pos);

// Length of the sequence a lead byte announces (1 for ASCII and for bytes that cannot start a sequence).
inline size_t utf8_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

void append_utf8(std::string& out, uint32_t cp);

// Copies `s` with every byte that is not part of a valid sequence replaced by U+FFFD (as llama.cpp does), so
// the regex engine, which is run without its own UTF check for speed, only ever sees valid UTF-8.
std::string sanitize_utf8(std::string_view s);
bool is_valid_utf8(std::string_view s);

// How many leading bytes of `s` can be emitted now: everything except a trailing sequence that is a valid
// but incomplete prefix of a character (which later bytes may complete).
size_t complete_utf8_prefix(std::string_view s);

}  // namespace sy::tok
