#include "tokenizer/chat/jinja_lexer.h"

#include <array>
#include <utility>

#include "tokenizer/chat/js_text.h"

namespace sy::chat {
namespace {

// Preprocessed text plus, for every byte, the offset it came from in the original template.
struct Mapped {
  std::string text;
  std::vector<uint32_t> origin;
  void push(char c, uint32_t from) {
    text += c;
    origin.push_back(from);
  }
};

bool is_line_start(const Mapped& m) {
  if (m.text.empty()) return true;
  const char last = m.text.back();
  if (last == '\n' || last == '\r') return true;
  // U+2028 / U+2029 also end a line for JS's multiline `^`.
  const size_t n = m.text.size();
  return n >= 3 && m.text.compare(n - 3, 2, "\xE2\x80") == 0 && (m.text[n - 1] == '\xA8' || m.text[n - 1] == '\xA9');
}

// lstrip_blocks (/^[ \t]*({[#%-])/gm removes the blanks) and trim_blocks (/([#%-]})\n/g drops the newline).
Mapped strip_blocks(std::string_view src) {
  Mapped lstripped;
  for (size_t i = 0; i < src.size();) {
    if (is_line_start(lstripped) && (src[i] == ' ' || src[i] == '\t')) {
      size_t j = i;
      while (j < src.size() && (src[j] == ' ' || src[j] == '\t')) ++j;
      if (j + 1 < src.size() && src[j] == '{' && (src[j + 1] == '#' || src[j + 1] == '%' || src[j + 1] == '-')) {
        i = j;
        continue;
      }
      for (; i < j; ++i) lstripped.push(src[i], static_cast<uint32_t>(i));
      continue;
    }
    lstripped.push(src[i], static_cast<uint32_t>(i));
    ++i;
  }
  Mapped trimmed;
  const std::string& t = lstripped.text;
  for (size_t i = 0; i < t.size();) {
    if (i + 2 < t.size() && (t[i] == '#' || t[i] == '%' || t[i] == '-') && t[i + 1] == '}' && t[i + 2] == '\n') {
      trimmed.push(t[i], lstripped.origin[i]);
      trimmed.push(t[i + 1], lstripped.origin[i + 1]);
      i += 3;
      continue;
    }
    trimmed.push(t[i], lstripped.origin[i]);
    ++i;
  }
  return trimmed;
}

size_t skip_js_spaces(std::string_view s, size_t i) {
  while (size_t len = js_space_length(s, i)) i += len;
  return i;
}

// If s[i] starts `{%-? (end)?generation -?%}`, returns its end and whether each side has a '-'.
bool match_generation_tag(std::string_view s, size_t i, size_t& end, bool& lstrip, bool& rstrip) {
  if (s.compare(i, 2, "{%") != 0) return false;
  size_t j = i + 2;
  lstrip = j < s.size() && s[j] == '-';
  if (lstrip) ++j;
  j = skip_js_spaces(s, j);
  if (s.compare(j, 3, "end") == 0 && s.compare(j + 3, 10, "generation") == 0) j += 3;
  if (s.compare(j, 10, "generation") != 0) return false;
  j = skip_js_spaces(s, j + 10);
  rstrip = j < s.size() && s[j] == '-';
  if (rstrip) ++j;
  if (s.compare(j, 2, "%}") != 0) return false;
  end = j + 2;
  return true;
}

// transformers' {% generation %} / {% endgeneration %} marks are removed, honouring '-' on either side.
Mapped remove_generation_tags(const Mapped& in) {
  Mapped out;
  const std::string& s = in.text;
  size_t kept_from = 0;  // output bytes before this belong to an earlier match and cannot be stripped
  for (size_t i = 0; i < s.size();) {
    size_t end = 0;
    bool lstrip = false, rstrip = false;
    if (s[i] == '{' && match_generation_tag(s, i, end, lstrip, rstrip)) {
      if (lstrip) {
        const size_t n =
            js_space_length_before(std::string_view(out.text).substr(kept_from), out.text.size() - kept_from);
        out.text.resize(out.text.size() - n);
        out.origin.resize(out.text.size());
      }
      i = end;
      if (rstrip) i = skip_js_spaces(s, i);
      kept_from = out.text.size();
      continue;
    }
    out.push(s[i], in.origin[i]);
    ++i;
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

struct Lexer {
  std::string_view original;
  Mapped src;
  size_t pos = 0;
  std::vector<Token> tokens;
  int brace_depth = 0;

  uint32_t origin(size_t p) const {
    if (p < src.origin.size()) return src.origin[p];
    return static_cast<uint32_t>(original.size());
  }
  char at(size_t p) const { return p < src.text.size() ? src.text[p] : '\0'; }
  bool starts(std::string_view seq) const { return src.text.compare(pos, seq.size(), seq) == 0; }

  tl::unexpected<Error> error(size_t p, std::string_view what) const {
    return fail(ErrorCode::kInvalidInput, "chat template {}: {}", describe_position(original, origin(p)), what);
  }

  void push(TokenKind kind, std::string text, size_t start) {
    tokens.push_back(Token{kind, std::move(text), origin(start)});
  }

  TokenKind last_kind() const { return tokens.empty() ? TokenKind::kEnd : tokens.back().kind; }

  void strip_trailing_whitespace() {
    if (tokens.empty() || tokens.back().kind != TokenKind::kText) return;
    std::string& text = tokens.back().text;
    text.resize(js_trim_end(text).size());
    if (text.empty()) tokens.pop_back();
  }

  void skip_leading_whitespace() { pos = skip_js_spaces(src.text, pos); }

  // A quoted string's contents with JS escapes decoded; `pos` is just past the opening quote.
  Status read_string(char quote, std::string& out) {
    for (;;) {
      if (pos >= src.text.size()) return error(pos, "unterminated string literal");
      const char c = src.text[pos];
      if (c == quote) {
        ++pos;
        return {};
      }
      if (c != '\\') {
        out += c;
        ++pos;
        continue;
      }
      if (++pos >= src.text.size()) return error(pos, "unterminated string literal");
      const char e = src.text[pos++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\'':
        case '"':
        case '\\': out += e; break;
        case 'x':
        case 'u': {
          const size_t n = e == 'x' ? 2 : 4;
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            const char h = at(pos + k);
            const int d = is_digit(h)              ? h - '0'
                          : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                          : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                   : -1;
            if (d < 0) return error(pos - 2, fmt::format("invalid \\{} escape in string literal", e));
            cp = cp * 16 + static_cast<uint32_t>(d);
          }
          pos += n;
          if (cp >= 0xD800 && cp <= 0xDFFF) return error(pos - n - 2, "unsupported \\u escape of a UTF-16 surrogate");
          append_utf8(out, cp);
          break;
        }
        default: return error(pos - 2, fmt::format("unknown escape '\\{}' in string literal", e));
      }
    }
  }

  Status run() {
    static const std::array<std::pair<std::string_view, TokenKind>, 30> kTable{{
        {"{%", TokenKind::kOpenStatement},  {"%}", TokenKind::kCloseStatement},
        {"{{", TokenKind::kOpenExpression}, {"}}", TokenKind::kCloseExpression},
        {"(", TokenKind::kOpenParen},       {")", TokenKind::kCloseParen},
        {"{", TokenKind::kOpenBrace},       {"}", TokenKind::kCloseBrace},
        {"[", TokenKind::kOpenBracket},     {"]", TokenKind::kCloseBracket},
        {",", TokenKind::kComma},           {".", TokenKind::kDot},
        {":", TokenKind::kColon},           {"|", TokenKind::kPipe},
        {"<=", TokenKind::kComparison},     {">=", TokenKind::kComparison},
        {"==", TokenKind::kComparison},     {"!=", TokenKind::kComparison},
        {"<", TokenKind::kComparison},      {">", TokenKind::kComparison},
        {"+", TokenKind::kAdditive},        {"-", TokenKind::kAdditive},
        {"~", TokenKind::kAdditive},        {"**", TokenKind::kPower},
        {"*", TokenKind::kMultiplicative},  {"//", TokenKind::kMultiplicative},
        {"/", TokenKind::kMultiplicative},  {"%", TokenKind::kMultiplicative},
        {"=", TokenKind::kEquals},          {"", TokenKind::kEnd},
    }};
    const std::string& s = src.text;
    while (pos < s.size()) {
      const TokenKind last = last_kind();
      if (last == TokenKind::kEnd || last == TokenKind::kCloseStatement || last == TokenKind::kCloseExpression ||
          last == TokenKind::kComment) {
        const size_t start = pos;
        while (pos < s.size() && !(s[pos] == '{' && (at(pos + 1) == '%' || at(pos + 1) == '{' || at(pos + 1) == '#')))
          ++pos;
        if (pos > start) {
          push(TokenKind::kText, s.substr(start, pos - start), start);
          continue;
        }
      }
      if (starts("{#")) {
        const size_t start = pos;
        pos += 2;
        const bool strip_before = at(pos) == '-';
        if (strip_before) ++pos;
        const size_t body = pos;
        const size_t close = s.find("#}", pos);
        if (close == std::string::npos) return error(start, "comment is not closed with '#}'");
        std::string comment = s.substr(body, close - body);
        const bool strip_after = !comment.empty() && comment.back() == '-';
        if (strip_after) comment.pop_back();
        if (strip_before) strip_trailing_whitespace();
        push(TokenKind::kComment, std::move(comment), start);
        pos = close + 2;
        if (strip_after) skip_leading_whitespace();
        continue;
      }
      if (starts("{%-")) {
        strip_trailing_whitespace();
        push(TokenKind::kOpenStatement, "{%", pos);
        pos += 3;
        continue;
      }
      if (starts("{{-")) {
        strip_trailing_whitespace();
        push(TokenKind::kOpenExpression, "{{", pos);
        brace_depth = 0;
        pos += 3;
        continue;
      }
      skip_leading_whitespace();
      if (pos >= s.size()) return error(pos, "unexpected end of template inside a tag");
      if (starts("-%}")) {
        push(TokenKind::kCloseStatement, "%}", pos);
        pos += 3;
        skip_leading_whitespace();
        continue;
      }
      if (starts("-}}")) {
        push(TokenKind::kCloseExpression, "}}", pos);
        pos += 3;
        skip_leading_whitespace();
        continue;
      }
      const char c = s[pos];
      if (c == '-' || c == '+') {
        const TokenKind prev = last_kind();
        if (prev == TokenKind::kText || prev == TokenKind::kEnd) return error(pos, fmt::format("unexpected '{}'", c));
        if (prev != TokenKind::kIdentifier && prev != TokenKind::kNumber && prev != TokenKind::kString &&
            prev != TokenKind::kCloseParen && prev != TokenKind::kCloseBracket) {
          // A sign: folded into a following number literal, otherwise a unary operator.
          const size_t start = pos++;
          std::string num;
          while (is_digit(at(pos))) num += s[pos++];
          if (!num.empty() && at(pos) == '.' && is_digit(at(pos + 1))) {
            num += s[pos++];
            while (is_digit(at(pos))) num += s[pos++];
          }
          if (pos >= s.size()) return error(pos, "unexpected end of template inside a tag");
          push(num.empty() ? TokenKind::kUnary : TokenKind::kNumber, std::string(1, c) + num, start);
          continue;
        }
      }
      bool matched = false;
      for (const auto& [seq, kind] : kTable) {
        if (seq.empty()) break;
        if (seq == "}}" && brace_depth > 0) continue;
        if (!starts(seq)) continue;
        push(kind, std::string(seq), pos);
        if (kind == TokenKind::kOpenExpression) brace_depth = 0;
        if (kind == TokenKind::kOpenBrace) ++brace_depth;
        if (kind == TokenKind::kCloseBrace) --brace_depth;
        pos += seq.size();
        matched = true;
        break;
      }
      if (matched) continue;
      if (c == '\'' || c == '"') {
        const size_t start = pos++;
        std::string value;
        if (auto st = read_string(c, value); !st) return tl::unexpected(st.error());
        push(TokenKind::kString, std::move(value), start);
        continue;
      }
      if (is_digit(c)) {
        const size_t start = pos;
        while (is_digit(at(pos))) ++pos;
        if (last_kind() != TokenKind::kDot && at(pos) == '.' && is_digit(at(pos + 1))) {
          ++pos;
          while (is_digit(at(pos))) ++pos;
        }
        if (pos >= s.size()) return error(pos, "unexpected end of template inside a tag");
        push(TokenKind::kNumber, s.substr(start, pos - start), start);
        continue;
      }
      if (is_word(c)) {
        const size_t start = pos;
        while (is_word(at(pos))) ++pos;
        if (pos >= s.size()) return error(pos, "unexpected end of template inside a tag");
        push(TokenKind::kIdentifier, s.substr(start, pos - start), start);
        continue;
      }
      size_t len = 0;
      decode_utf8(s, pos, len);
      return error(pos, fmt::format("unexpected character '{}'", s.substr(pos, len)));
    }
    tokens.push_back(Token{TokenKind::kEnd, "", static_cast<uint32_t>(original.size())});
    return {};
  }
};

}  // namespace

std::string describe_position(std::string_view source, uint32_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("line {}, column {}", line, column);
}

Result<std::vector<Token>> tokenize(std::string_view source) {
  std::string_view body = source;
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  Lexer lexer;
  lexer.original = source;
  lexer.src = remove_generation_tags(strip_blocks(body));
  if (auto st = lexer.run(); !st) return tl::unexpected(st.error());
  return std::move(lexer.tokens);
}

}  // namespace sy::chat
