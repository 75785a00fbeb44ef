// Syntax tree of a chat template. One node type with a kind tag keeps the tree small and easy to walk; the
// fields a kind uses are listed next to it. Nodes are owned by their parent through unique_ptr.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sy::chat {

enum class NodeKind : uint8_t {
  // Statements
  kText,         // text
  kComment,      //
  kIf,           // a = test, body, alternate
  kFor,          // a = loop target (identifier or tuple), b = iterable, body, alternate (else block)
  kSet,          // a = target, b = value (or null: block set with body)
  kMacro,        // text = name, args = parameters (identifier or kwarg with default), body
  kCallBlock,    // a = call expression, args = caller parameters, body
  kFilterBlock,  // a = filter (identifier or call), body
  kBreak,
  kContinue,
  // Expressions
  kInteger,        // number
  kFloat,          // number
  kString,         // text
  kIdentifier,     // text
  kArray,          // args = items
  kTuple,          // args = items
  kObject,         // args = keys, body = values (same length)
  kMember,         // a = object, b = property, computed
  kCall,           // a = callee, args
  kUnary,          // text = operator ("not", "-", "+"), a = operand
  kBinary,         // text = operator, a = left, b = right
  kFilter,         // a = operand, b = filter (identifier or call)
  kTest,           // a = operand, text = test name, negate
  kSlice,          // a = start, b = stop, c = step (each may be null)
  kKeywordArg,     // text = name, a = value
  kSpread,         // a = value (*args)
  kKeywordSpread,  // a = value (**kwargs)
  kSelect,         // a = value, b = condition (`x if c` without else)
  kTernary,        // a = condition, b = value if true, c = value if false
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using NodeList = std::vector<NodePtr>;

struct Node {
  NodeKind kind;
  uint32_t offset = 0;  // byte offset in the template, for error messages
  std::string text;
  double number = 0;
  bool computed = false;
  bool negate = false;
  NodePtr a, b, c;
  NodeList args, body, alternate;
};

inline NodePtr make_node(NodeKind kind, uint32_t offset) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->offset = offset;
  return n;
}

}  // namespace sy::chat
