// Jinja parser: tokens to a syntax tree, with @huggingface/jinja's grammar and operator precedence (tests
// bind tighter than `*`, `not` applies to a whole comparison, `in` chains like a comparison). A statement
// or construct outside that grammar is an error naming it and its line and column.
#pragma once

#include <string_view>
#include <vector>

#include "core/error.h"
#include "tokenizer/chat/jinja_ast.h"
#include "tokenizer/chat/jinja_lexer.h"

namespace sy::chat {

struct ParseLimits {
  int max_depth = 200;  // nesting of blocks and expressions: the template is outside data
};

// Returns the top-level statement list.
Result<NodeList> parse(const std::vector<Token>& tokens, std::string_view source, ParseLimits limits = {});

}  // namespace sy::chat
