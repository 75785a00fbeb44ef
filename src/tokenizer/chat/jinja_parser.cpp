#include "tokenizer/chat/jinja_parser.h"

#include <cstdlib>
#include <initializer_list>
#include <string>

namespace sy::chat {
namespace {

// Thrown inside the parser and turned into a Result at its boundary.
struct ParseError {
  uint32_t offset;
  std::string message;
};

const char* kind_name(TokenKind k) {
  switch (k) {
    case TokenKind::kText: return "text";
    case TokenKind::kNumber: return "number";
    case TokenKind::kString: return "string";
    case TokenKind::kIdentifier: return "identifier";
    case TokenKind::kEquals: return "'='";
    case TokenKind::kOpenParen: return "'('";
    case TokenKind::kCloseParen: return "')'";
    case TokenKind::kOpenStatement: return "'{%'";
    case TokenKind::kCloseStatement: return "'%}'";
    case TokenKind::kOpenExpression: return "'{{'";
    case TokenKind::kCloseExpression: return "'}}'";
    case TokenKind::kOpenBracket: return "'['";
    case TokenKind::kCloseBracket: return "']'";
    case TokenKind::kOpenBrace: return "'{'";
    case TokenKind::kCloseBrace: return "'}'";
    case TokenKind::kComma: return "','";
    case TokenKind::kDot: return "'.'";
    case TokenKind::kColon: return "':'";
    case TokenKind::kPipe: return "'|'";
    case TokenKind::kAdditive:
    case TokenKind::kMultiplicative:
    case TokenKind::kPower:
    case TokenKind::kComparison:
    case TokenKind::kUnary: return "operator";
    case TokenKind::kComment: return "comment";
    case TokenKind::kEnd: return "end of template";
  }
  return "token";
}

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, ParseLimits limits) : t_(tokens), limits_(limits) {}

  NodeList program() {
    NodeList out;
    while (peek().kind != TokenKind::kEnd) out.push_back(any());
    return out;
  }

 private:
  const std::vector<Token>& t_;
  ParseLimits limits_;
  size_t cur_ = 0;
  int depth_ = 0;

  // Guards recursion: nested blocks and expressions are bounded so that hostile input cannot overflow the stack.
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > p.limits_.max_depth)
        throw ParseError{p.peek().offset, fmt::format("nesting deeper than {} levels", p.limits_.max_depth)};
    }
    ~DepthGuard() { --p.depth_; }
  };

  const Token& peek(size_t ahead = 0) const {
    const size_t i = cur_ + ahead;
    return i < t_.size() ? t_[i] : t_.back();
  }
  const Token& next() {
    const Token& tok = peek();
    if (cur_ < t_.size() - 1) ++cur_;
    return tok;
  }
  bool is(TokenKind k) const { return peek().kind == k; }
  bool is_ident(std::string_view name, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::kIdentifier && peek(ahead).text == name;
  }
  bool is_statement(std::initializer_list<std::string_view> names) const {
    if (peek().kind != TokenKind::kOpenStatement || peek(1).kind != TokenKind::kIdentifier) return false;
    for (auto n : names)
      if (peek(1).text == n) return true;
    return false;
  }
  [[noreturn]] void error(const Token& tok, std::string message) const {
    throw ParseError{tok.offset, std::move(message)};
  }
  const Token& expect(TokenKind k, std::string_view what) {
    const Token& tok = peek();
    if (tok.kind != k) error(tok, fmt::format("expected {}, found {}", what, describe(tok)));
    return next();
  }
  void expect_ident(std::string_view name) {
    if (!is_ident(name)) error(peek(), fmt::format("expected '{}', found {}", name, describe(peek())));
    next();
  }
  static std::string describe(const Token& tok) {
    switch (tok.kind) {
      case TokenKind::kIdentifier: return fmt::format("'{}'", tok.text);
      case TokenKind::kAdditive:
      case TokenKind::kMultiplicative:
      case TokenKind::kPower:
      case TokenKind::kComparison:
      case TokenKind::kUnary: return fmt::format("operator '{}'", tok.text);
      default: return kind_name(tok.kind);
    }
  }
  // Body statements until one of the named block tags; the end of the template there is an unclosed block.
  void body_until(NodeList& out, std::initializer_list<std::string_view> names, const Token& opener,
                  std::string_view block) {
    while (!is_statement(names)) {
      if (is(TokenKind::kEnd)) error(opener, fmt::format("'{}' block is never closed", block));
      out.push_back(any());
    }
  }
  void end_tag(std::string_view name) {
    expect(TokenKind::kOpenStatement, "'{%'");
    expect_ident(name);
    expect(TokenKind::kCloseStatement, "'%}'");
  }

  NodePtr any() {
    DepthGuard guard(*this);
    const Token& tok = peek();
    switch (tok.kind) {
      case TokenKind::kComment: {
        next();
        return make_node(NodeKind::kComment, tok.offset);
      }
      case TokenKind::kText: {
        auto n = make_node(NodeKind::kText, tok.offset);
        n->text = next().text;
        return n;
      }
      case TokenKind::kOpenStatement: return statement();
      case TokenKind::kOpenExpression: {
        next();
        auto e = expression();
        expect(TokenKind::kCloseExpression, "'}}'");
        return e;
      }
      default: error(tok, fmt::format("unexpected {}", describe(tok)));
    }
  }

  NodePtr statement() {
    const Token& open = next();  // {%
    const Token& name_tok = peek();
    if (name_tok.kind != TokenKind::kIdentifier)
      error(name_tok, fmt::format("expected a statement name, found {}", describe(name_tok)));
    const std::string name = name_tok.text;
    next();
    if (name == "set") return set_statement(open);
    if (name == "if") {
      auto n = if_statement(open);
      end_tag("endif");
      return n;
    }
    if (name == "for") {
      auto n = for_statement(open);
      end_tag("endfor");
      return n;
    }
    if (name == "macro") {
      auto n = make_node(NodeKind::kMacro, open.offset);
      auto id = primary();
      if (id->kind != NodeKind::kIdentifier) error(open, "expected a name after 'macro'");
      n->text = id->text;
      n->args = arguments(true);
      expect(TokenKind::kCloseStatement, "'%}'");
      body_until(n->body, {"endmacro"}, open, "macro");
      end_tag("endmacro");
      return n;
    }
    if (name == "call") {
      auto n = make_node(NodeKind::kCallBlock, open.offset);
      if (is(TokenKind::kOpenParen)) n->args = arguments(true);
      auto callee = primary();
      if (callee->kind != NodeKind::kIdentifier) error(open, "expected a macro name after 'call'");
      auto call = make_node(NodeKind::kCall, callee->offset);
      call->args = arguments(false);
      call->a = std::move(callee);
      n->a = std::move(call);
      expect(TokenKind::kCloseStatement, "'%}'");
      body_until(n->body, {"endcall"}, open, "call");
      end_tag("endcall");
      return n;
    }
    if (name == "filter") {
      auto n = make_node(NodeKind::kFilterBlock, open.offset);
      auto f = primary();
      if (f->kind == NodeKind::kIdentifier && is(TokenKind::kOpenParen)) f = call(std::move(f));
      n->a = std::move(f);
      expect(TokenKind::kCloseStatement, "'%}'");
      body_until(n->body, {"endfilter"}, open, "filter");
      end_tag("endfilter");
      return n;
    }
    if (name == "break" || name == "continue") {
      expect(TokenKind::kCloseStatement, "'%}'");
      return make_node(name == "break" ? NodeKind::kBreak : NodeKind::kContinue, open.offset);
    }
    error(name_tok, fmt::format("unsupported statement '{}'", name));
  }

  NodePtr set_statement(const Token& open) {
    auto n = make_node(NodeKind::kSet, open.offset);
    n->a = expression_sequence(false);
    if (is(TokenKind::kEquals)) {
      next();
      n->b = expression_sequence(false);
    } else {
      expect(TokenKind::kCloseStatement, "'%}' or '='");
      body_until(n->body, {"endset"}, open, "set");
      expect(TokenKind::kOpenStatement, "'{%'");
      expect_ident("endset");
    }
    expect(TokenKind::kCloseStatement, "'%}'");
    return n;
  }

  NodePtr if_statement(const Token& open) {
    DepthGuard guard(*this);
    auto n = make_node(NodeKind::kIf, open.offset);
    n->a = expression();
    expect(TokenKind::kCloseStatement, "'%}'");
    body_until(n->body, {"elif", "else", "endif"}, open, "if");
    if (is_statement({"elif"})) {
      const Token& elif = next();
      next();
      n->alternate.push_back(if_statement(elif));
    } else if (is_statement({"else"})) {
      next();
      next();
      expect(TokenKind::kCloseStatement, "'%}'");
      body_until(n->alternate, {"endif"}, open, "if");
    }
    return n;
  }

  NodePtr for_statement(const Token& open) {
    auto n = make_node(NodeKind::kFor, open.offset);
    n->a = expression_sequence(true);
    if (n->a->kind != NodeKind::kIdentifier && n->a->kind != NodeKind::kTuple)
      error(open, "expected a name or a tuple of names as the loop variable");
    if (!is_ident("in"))
      error(peek(), fmt::format("expected 'in' after the loop variable, found {}", describe(peek())));
    next();
    n->b = expression();
    expect(TokenKind::kCloseStatement, "'%}'");
    body_until(n->body, {"endfor", "else"}, open, "for");
    if (is_statement({"else"})) {
      next();
      next();
      expect(TokenKind::kCloseStatement, "'%}'");
      body_until(n->alternate, {"endfor"}, open, "for");
    }
    return n;
  }

  NodePtr expression_sequence(bool primary_only) {
    const uint32_t offset = peek().offset;
    auto first = primary_only ? primary() : expression();
    if (!is(TokenKind::kComma)) return first;
    auto tuple = make_node(NodeKind::kTuple, offset);
    tuple->args.push_back(std::move(first));
    while (is(TokenKind::kComma)) {
      next();
      tuple->args.push_back(primary_only ? primary() : expression());
    }
    return tuple;
  }

  NodePtr expression() {
    DepthGuard guard(*this);
    auto a = logical_or();
    if (is_ident("if")) {
      const Token& if_tok = next();
      auto test = logical_or();
      if (is_ident("else")) {
        next();
        auto n = make_node(NodeKind::kTernary, if_tok.offset);
        n->a = std::move(test);
        n->b = std::move(a);
        n->c = expression();
        return n;
      }
      auto n = make_node(NodeKind::kSelect, if_tok.offset);
      n->a = std::move(a);
      n->b = std::move(test);
      return n;
    }
    return a;
  }

  NodePtr binary(NodePtr left, const Token& op, std::string text, NodePtr right) {
    auto n = make_node(NodeKind::kBinary, op.offset);
    n->text = std::move(text);
    n->a = std::move(left);
    n->b = std::move(right);
    return n;
  }

  NodePtr logical_or() {
    auto left = logical_and();
    while (is_ident("or")) {
      const Token& op = next();
      left = binary(std::move(left), op, "or", logical_and());
    }
    return left;
  }
  NodePtr logical_and() {
    auto left = logical_not();
    while (is_ident("and")) {
      const Token& op = next();
      left = binary(std::move(left), op, "and", logical_not());
    }
    return left;
  }
  NodePtr logical_not() {
    if (is_ident("not")) {
      DepthGuard guard(*this);
      const Token& op = next();
      auto n = make_node(NodeKind::kUnary, op.offset);
      n->text = "not";
      n->a = logical_not();
      return n;
    }
    return comparison();
  }
  NodePtr comparison() {
    auto left = additive();
    for (;;) {
      if (is_ident("not") && is_ident("in", 1)) {
        const Token& op = next();
        next();
        left = binary(std::move(left), op, "not in", additive());
      } else if (is_ident("in")) {
        const Token& op = next();
        left = binary(std::move(left), op, "in", additive());
      } else if (is(TokenKind::kComparison)) {
        const Token& op = next();
        left = binary(std::move(left), op, op.text, additive());
      } else {
        return left;
      }
    }
  }
  NodePtr additive() {
    auto left = multiplicative();
    while (is(TokenKind::kAdditive)) {
      const Token& op = next();
      left = binary(std::move(left), op, op.text, multiplicative());
    }
    return left;
  }
  NodePtr multiplicative() {
    auto left = power();
    while (is(TokenKind::kMultiplicative)) {
      const Token& op = next();
      left = binary(std::move(left), op, op.text, power());
    }
    return left;
  }
  NodePtr power() {
    auto left = test();
    while (is(TokenKind::kPower)) {
      const Token& op = next();
      left = binary(std::move(left), op, "**", test());
    }
    return left;
  }
  NodePtr test() {
    auto operand = filter();
    while (is_ident("is")) {
      const Token& is_tok = next();
      const bool negate = is_ident("not");
      if (negate) next();
      auto name = primary();
      if (name->kind != NodeKind::kIdentifier) error(is_tok, "expected a test name after 'is'");
      if (is(TokenKind::kOpenParen))
        error(peek(), fmt::format("unsupported construct: test '{}' with arguments", name->text));
      auto n = make_node(NodeKind::kTest, is_tok.offset);
      n->text = name->text;
      n->negate = negate;
      n->a = std::move(operand);
      operand = std::move(n);
    }
    return operand;
  }
  NodePtr filter() {
    auto operand = unary_sign();
    while (is(TokenKind::kPipe)) {
      const Token& pipe = next();
      auto f = primary();
      if (f->kind != NodeKind::kIdentifier) error(pipe, "expected a filter name after '|'");
      if (is(TokenKind::kOpenParen)) f = call(std::move(f));
      auto n = make_node(NodeKind::kFilter, pipe.offset);
      n->a = std::move(operand);
      n->b = std::move(f);
      operand = std::move(n);
    }
    return operand;
  }
  NodePtr unary_sign() {
    const Token& tok = peek();
    if ((tok.kind == TokenKind::kUnary || tok.kind == TokenKind::kAdditive) && (tok.text == "-" || tok.text == "+")) {
      DepthGuard guard(*this);
      next();
      auto n = make_node(NodeKind::kUnary, tok.offset);
      n->text = tok.text;
      n->a = unary_sign();
      return n;
    }
    auto member_expr = member(primary());
    if (is(TokenKind::kOpenParen)) return call(std::move(member_expr));
    return member_expr;
  }
  NodePtr call(NodePtr callee) {
    DepthGuard guard(*this);
    auto n = make_node(NodeKind::kCall, peek().offset);
    n->args = arguments(false);
    n->a = std::move(callee);
    NodePtr e = member(std::move(n));
    if (is(TokenKind::kOpenParen)) return call(std::move(e));
    return e;
  }
  // `(a, b=1, *rest, **kw)`: call arguments, or macro parameters when `parameters` is set.
  NodeList arguments(bool parameters) {
    expect(TokenKind::kOpenParen, "'('");
    NodeList args;
    bool saw_keyword = false;
    while (!is(TokenKind::kCloseParen)) {
      if (is(TokenKind::kEnd)) error(peek(), "argument list is never closed with ')'");
      const Token& start = peek();
      const bool kw_spread = is(TokenKind::kPower);
      const bool spread = is(TokenKind::kMultiplicative) && peek().text == "*";
      if (parameters && (kw_spread || spread)) error(start, "argument unpacking is not allowed in parameters");
      if (kw_spread) {
        next();
        auto n = make_node(NodeKind::kKeywordSpread, start.offset);
        n->a = expression();
        args.push_back(std::move(n));
        if (is(TokenKind::kComma)) next();
        if (!is(TokenKind::kCloseParen)) error(peek(), "'**' must be the last argument");
        break;
      }
      NodePtr arg;
      if (spread) {
        next();
        arg = make_node(NodeKind::kSpread, start.offset);
        arg->a = expression();
      } else {
        arg = expression();
        if (is(TokenKind::kEquals)) {
          next();
          if (arg->kind != NodeKind::kIdentifier) error(start, "expected a name before '='");
          auto kw = make_node(NodeKind::kKeywordArg, start.offset);
          kw->text = arg->text;
          kw->a = expression();
          arg = std::move(kw);
        }
        if (parameters && arg->kind != NodeKind::kIdentifier && arg->kind != NodeKind::kKeywordArg)
          error(start, "expected a parameter name");
        if (arg->kind == NodeKind::kKeywordArg) {
          saw_keyword = true;
        } else if (saw_keyword) {
          error(start, parameters ? "parameter without default follows one with a default"
                                  : "positional argument follows keyword argument");
        }
      }
      args.push_back(std::move(arg));
      if (is(TokenKind::kComma)) next();
    }
    next();  // ')'
    return args;
  }
  NodePtr subscript() {
    const Token& open = peek();
    NodePtr parts[3];
    size_t count = 0;
    bool is_slice = false;
    while (!is(TokenKind::kCloseBracket)) {
      if (is(TokenKind::kEnd)) error(open, "'[' is never closed");
      if (count == 3) error(open, "a slice takes at most 3 parts");
      if (is(TokenKind::kColon)) {
        ++count;
        next();
        is_slice = true;
      } else {
        parts[count++] = expression();
        if (is(TokenKind::kColon)) {
          next();
          is_slice = true;
        }
      }
    }
    if (count == 0) error(open, "empty subscript '[]'");
    if (!is_slice) return std::move(parts[0]);
    auto n = make_node(NodeKind::kSlice, open.offset);
    n->a = std::move(parts[0]);
    n->b = std::move(parts[1]);
    n->c = std::move(parts[2]);
    return n;
  }
  NodePtr member(NodePtr object) {
    while (is(TokenKind::kDot) || is(TokenKind::kOpenBracket)) {
      const Token& op = next();
      auto n = make_node(NodeKind::kMember, op.offset);
      n->computed = op.kind == TokenKind::kOpenBracket;
      if (n->computed) {
        n->b = subscript();
        expect(TokenKind::kCloseBracket, "']'");
      } else {
        n->b = primary();
        if (n->b->kind != NodeKind::kIdentifier && n->b->kind != NodeKind::kInteger)
          error(op, "expected a name or an integer after '.'");
      }
      n->a = std::move(object);
      object = std::move(n);
    }
    return object;
  }
  NodePtr primary() {
    DepthGuard guard(*this);
    const Token& tok = next();
    switch (tok.kind) {
      case TokenKind::kNumber: {
        const bool is_float = tok.text.find('.') != std::string::npos;
        auto n = make_node(is_float ? NodeKind::kFloat : NodeKind::kInteger, tok.offset);
        n->number = std::strtod(tok.text.c_str(), nullptr);
        return n;
      }
      case TokenKind::kString: {
        auto n = make_node(NodeKind::kString, tok.offset);
        n->text = tok.text;
        while (is(TokenKind::kString)) n->text += next().text;  // adjacent literals concatenate
        return n;
      }
      case TokenKind::kIdentifier: {
        auto n = make_node(NodeKind::kIdentifier, tok.offset);
        n->text = tok.text;
        return n;
      }
      case TokenKind::kOpenParen: {
        auto e = expression_sequence(false);
        expect(TokenKind::kCloseParen, "')'");
        return e;
      }
      case TokenKind::kOpenBracket: {
        auto n = make_node(NodeKind::kArray, tok.offset);
        while (!is(TokenKind::kCloseBracket)) {
          if (is(TokenKind::kEnd)) error(tok, "list literal is never closed with ']'");
          n->args.push_back(expression());
          if (is(TokenKind::kComma)) next();
        }
        next();
        return n;
      }
      case TokenKind::kOpenBrace: {
        auto n = make_node(NodeKind::kObject, tok.offset);
        while (!is(TokenKind::kCloseBrace)) {
          if (is(TokenKind::kEnd)) error(tok, "dict literal is never closed with '}'");
          n->args.push_back(expression());
          expect(TokenKind::kColon, "':' between key and value");
          n->body.push_back(expression());
          if (is(TokenKind::kComma)) next();
        }
        next();
        return n;
      }
      default: error(tok, fmt::format("unexpected {}", describe(tok)));
    }
  }
};

}  // namespace

Result<NodeList> parse(const std::vector<Token>& tokens, std::string_view source, ParseLimits limits) {
  if (tokens.empty() || tokens.back().kind != TokenKind::kEnd)
    return fail(ErrorCode::kInvalidInput, "chat template: token list has no end marker");
  try {
    Parser parser(tokens, limits);
    return parser.program();
  } catch (const ParseError& e) {
    return fail(ErrorCode::kInvalidInput, "chat template {}: {}", describe_position(source, e.offset), e.message);
  }
}

}  // namespace sy::chat
