// GPT-2's byte-level alphabet: byte-level BPE vocabularies spell every byte as one printable code point
// (printable Latin-1 bytes as themselves, the rest shifted to U+0100 and up), so any byte string is a string
// of vocabulary symbols.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sy::tok {

// UTF-8 spelling of each byte's symbol.
const std::array<std::string, 256>& byte_level_symbols();
// The byte a symbol stands for, or nothing for a code point outside the alphabet.
std::optional<uint8_t> byte_level_byte(uint32_t cp);
// Appends the byte-level spelling of `bytes` to `out`.
void byte_level_encode(std::string_view bytes, std::string& out);
// Appends the bytes a byte-level spelled string stands for; code points outside the alphabet are kept as
// their own UTF-8 (vocabularies sometimes hold such tokens).
void byte_level_decode(std::string_view text, std::string& out);

}  // namespace sy::tok
