// Jinja lexer: the text of a chat template to tokens, the way @huggingface/jinja does it (its defaults are
// trim_blocks and lstrip_blocks on, one trailing newline dropped, transformers' {% generation %} tag
// removed). Offsets point into the original template so errors can name a line and column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sy::chat {

enum class TokenKind : uint8_t {
  kText,
  kNumber,
  kString,
  kIdentifier,
  kEquals,
  kOpenParen,
  kCloseParen,
  kOpenStatement,
  kCloseStatement,
  kOpenExpression,
  kCloseExpression,
  kOpenBracket,
  kCloseBracket,
  kOpenBrace,
  kCloseBrace,
  kComma,
  kDot,
  kColon,
  kPipe,
  kAdditive,
  kMultiplicative,
  kPower,
  kComparison,
  kUnary,
  kComment,
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;     // decoded value: text, string literal contents, operator spelling, identifier
  uint32_t offset = 0;  // byte offset in the original template
};

// Turns a byte offset of the original template into "line L, column C" (1-based, columns in bytes).
std::string describe_position(std::string_view source, uint32_t offset);

// The last token is always kEnd. Errors name the position and what was unexpected.
Result<std::vector<Token>> tokenize(std::string_view source);

}  // namespace sy::chat
