// Text helpers that reproduce JavaScript's string semantics on UTF-8 bytes. Chat templates are checked
// byte for byte against @huggingface/jinja, which runs on JS strings: its whitespace class (`\s`, trim),
// its number printing (Number.prototype.toString) and JSON.stringify's escaping all differ from C's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tokenizer/utf8.h"

namespace sy::chat {

// Byte length of the JS whitespace character (`\s`: ASCII spaces, NBSP, BOM, U+2000..U+200A, line and
// paragraph separators, …) that starts at s[i], or 0 when s[i] starts something else.
size_t js_space_length(std::string_view s, size_t i);

// Byte length of the JS whitespace run ending just before `end` (looking backwards).
size_t js_space_length_before(std::string_view s, size_t end);

std::string_view js_trim_start(std::string_view s);
std::string_view js_trim_end(std::string_view s);
inline std::string_view js_trim(std::string_view s) { return js_trim_end(js_trim_start(s)); }

// Number.prototype.toString(): shortest round-trip digits, exponent form outside [1e-7, 1e21).
std::string js_number_to_string(double value);

// ToNumber(string) as JS `==` applies it: trimmed decimal/hex literal, "" is 0, anything else NaN.
double js_string_to_number(std::string_view s);

// JSON.stringify(string): quotes, backslash escapes and \u00XX for control characters; non-ASCII kept.
void append_json_string(std::string& out, std::string_view s);

// Length in UTF-16 code units (JS `.length`), counting invalid bytes as one unit each.
size_t utf16_length(std::string_view s);

// Decodes one UTF-8 character at s[i]; returns its code point and sets `length` (1 for an invalid byte,
// which is returned as itself so that bad input never stops the interpreter).
uint32_t decode_utf8(std::string_view s, size_t i, size_t& length);
// UTF-8 encoding of a code point: the tokenizer's (one implementation for the library).
using tok::append_utf8;

// ASCII-only case mapping (documented limit: JS maps all of Unicode; templates only case ASCII names).
std::string ascii_upper(std::string_view s);
std::string ascii_lower(std::string_view s);

}  // namespace sy::chat
