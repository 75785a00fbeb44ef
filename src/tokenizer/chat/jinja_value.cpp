#include "tokenizer/chat/jinja_value.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tokenizer/chat/js_text.h"

namespace sy::chat {

const char* kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::kUndefined: return "undefined";
    case ValueKind::kNull: return "none";
    case ValueKind::kBool: return "boolean";
    case ValueKind::kInteger: return "integer";
    case ValueKind::kFloat: return "float";
    case ValueKind::kString: return "string";
    case ValueKind::kArray: return "list";
    case ValueKind::kTuple: return "tuple";
    case ValueKind::kObject: return "mapping";
    case ValueKind::kKeywordArgs: return "keyword arguments";
    case ValueKind::kNamespace: return "namespace";
    case ValueKind::kFunction: return "function";
  }
  return "value";
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case ValueKind::kUndefined:
    case ValueKind::kNull: return false;
    case ValueKind::kBool: return v.boolean;
    case ValueKind::kInteger:
    case ValueKind::kFloat: return v.number != 0 && !std::isnan(v.number);
    case ValueKind::kString: return !v.str->empty();
    case ValueKind::kArray:
    case ValueKind::kTuple: return !v.array->empty();
    case ValueKind::kObject:
    case ValueKind::kKeywordArgs: return !v.object->entries.empty();
    case ValueKind::kNamespace:
    case ValueKind::kFunction: return true;
  }
  return false;
}

namespace {

std::string float_to_string(double x) {
  if (x == 0 && std::signbit(x)) return "-0.0";
  if (std::isfinite(x) && std::fmod(x, 1.0) == 0 && std::fabs(x) < 1e21) return fmt::format("{:.1f}", x);
  return js_number_to_string(x);
}

}  // namespace

namespace {

void check_size(size_t size, size_t max_bytes) {
  if (size > max_bytes)
    throw TemplateError{fmt::format("template built text of more than {} bytes, the limit", max_bytes)};
}

}  // namespace

std::string to_output_string(const Value& v, size_t max_bytes) {
  switch (v.kind) {
    case ValueKind::kUndefined: return "undefined";
    case ValueKind::kNull: return "null";
    case ValueKind::kBool: return v.boolean ? "true" : "false";
    case ValueKind::kInteger: return js_number_to_string(v.number);
    case ValueKind::kFloat: return float_to_string(v.number);
    case ValueKind::kString: return *v.str;
    case ValueKind::kFunction: throw TemplateError{"cannot print a function (did you forget to call it?)"};
    default: {
      std::string out;
      JsonOptions options;
      options.undefined_as_null = false;
      options.max_bytes = max_bytes;
      append_json(out, v, options);
      return out;
    }
  }
}

std::string raw_to_string(const Value& v, size_t max_bytes) {
  switch (v.kind) {
    case ValueKind::kInteger:
    case ValueKind::kFloat: return js_number_to_string(v.number);
    case ValueKind::kArray:
    case ValueKind::kTuple: {
      // Array.prototype.toString joins the elements' own toString() with commas.
      std::string out;
      for (size_t i = 0; i < v.array->size(); ++i) {
        if (i) out += ',';
        out += to_output_string((*v.array)[i], max_bytes);
        check_size(out.size(), max_bytes);
      }
      return out;
    }
    case ValueKind::kObject:
    case ValueKind::kKeywordArgs:
    case ValueKind::kNamespace: return "[object Map]";
    default: return to_output_string(v, max_bytes);
  }
}

void append_json(std::string& out, const Value& v, const JsonOptions& o, int depth) {
  if (depth > kMaxJsonDepth)
    throw TemplateError{
        fmt::format("value nested deeper than {} levels (does a namespace contain itself?)", kMaxJsonDepth)};
  check_size(out.size(), o.max_bytes);
  std::string item_sep = o.custom_separators ? o.item_separator : (o.indent > 0 ? "," : ", ");
  std::string key_sep = o.custom_separators ? o.key_separator : ": ";
  const std::string indent(static_cast<size_t>(std::max(o.indent, 0)), ' ');
  auto padding = [&](int d) {
    std::string p = "\n";
    for (int i = 0; i < d; ++i) p += indent;
    return p;
  };
  auto string_out = [&](const std::string& s) {
    if (!o.ensure_ascii) {
      append_json_string(out, s);
      return;
    }
    // ensure_ascii escapes every UTF-16 unit from U+007F up, surrogate pairs as two escapes.
    std::string quoted;
    append_json_string(quoted, s);
    for (size_t i = 0; i < quoted.size();) {
      size_t len = 0;
      const uint32_t cp = decode_utf8(quoted, i, len);
      if (cp < 0x7F) {
        out += quoted[i];
      } else if (cp < 0x10000) {
        out += fmt::format("\\u{:04x}", cp);
      } else {
        const uint32_t u = cp - 0x10000;
        out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (u >> 10), 0xDC00 + (u & 0x3FF));
      }
      i += len;
    }
  };
  switch (v.kind) {
    case ValueKind::kNull: out += "null"; return;
    case ValueKind::kUndefined: out += o.undefined_as_null ? "null" : "undefined"; return;
    case ValueKind::kBool: out += v.boolean ? "true" : "false"; return;
    case ValueKind::kInteger:
    case ValueKind::kFloat: out += std::isfinite(v.number) ? js_number_to_string(v.number) : "null"; return;
    case ValueKind::kString: string_out(*v.str); return;
    case ValueKind::kTuple:
      // The reference's JSON writer has no case for tuples, so printing one fails there too.
      throw TemplateError{"cannot print a tuple or convert it to JSON (the reference implementation cannot either)"};
    case ValueKind::kArray: {
      const auto& items = *v.array;
      const bool pretty = o.indent > 0 && !items.empty();
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        if (pretty) out += padding(depth + 1);
        append_json(out, items[i], o, depth + 1);
        check_size(out.size(), o.max_bytes);
      }
      if (pretty) out += padding(depth);
      out += ']';
      return;
    }
    case ValueKind::kObject:
    case ValueKind::kKeywordArgs:
    case ValueKind::kNamespace: {
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& e : v.object->entries) entries.push_back(&e);
      // JS localeCompare; byte order agrees with it for the ASCII keys JSON schemas use.
      if (o.sort_keys)
        std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
      const bool pretty = o.indent > 0 && !entries.empty();
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) out += item_sep;
        if (pretty) out += padding(depth + 1);
        string_out(entries[i]->first);
        out += key_sep;
        append_json(out, entries[i]->second, o, depth + 1);
        check_size(out.size(), o.max_bytes);
      }
      if (pretty) out += padding(depth);
      out += '}';
      return;
    }
    case ValueKind::kFunction: throw TemplateError{"cannot convert a function to JSON"};
  }
}

namespace {

bool is_object_like(const Value& v) { return v.is_array() || v.has_attributes() || v.is(ValueKind::kFunction); }

bool same_reference(const Value& a, const Value& b) {
  if (a.is_array() && b.is_array()) return a.array == b.array;
  if (a.has_attributes() && b.has_attributes()) return a.object == b.object;
  if (a.is(ValueKind::kFunction) && b.is(ValueKind::kFunction)) return a.function == b.function;
  return false;
}

}  // namespace

bool strict_equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return a.number == b.number;
  if (is_object_like(a) || is_object_like(b)) return same_reference(a, b);
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case ValueKind::kBool: return a.boolean == b.boolean;
    case ValueKind::kString: return *a.str == *b.str;
    default: return true;  // undefined === undefined, null === null
  }
}

bool loose_equal(const Value& a, const Value& b) {
  const bool a_nullish = a.is(ValueKind::kNull) || a.is(ValueKind::kUndefined);
  const bool b_nullish = b.is(ValueKind::kNull) || b.is(ValueKind::kUndefined);
  if (a_nullish || b_nullish) return a_nullish && b_nullish;
  if (is_object_like(a) && is_object_like(b)) return same_reference(a, b);
  if (is_object_like(a) || is_object_like(b)) {
    // JS would compare the object's primitive form; only arrays have a useful one.
    const Value& obj = is_object_like(a) ? a : b;
    const Value& prim = is_object_like(a) ? b : a;
    if (!obj.is_array()) return false;
    // Bounded: a list can reference one large string a million times.
    return loose_equal(Value::string(raw_to_string(obj, size_t{1} << 26)), prim);
  }
  auto as_number = [](const Value& v) {
    if (v.is(ValueKind::kBool)) return v.boolean ? 1.0 : 0.0;
    if (v.is(ValueKind::kString)) return js_string_to_number(*v.str);
    return v.number;
  };
  if (a.is(ValueKind::kString) && b.is(ValueKind::kString)) return *a.str == *b.str;
  if (a.is(ValueKind::kBool) && b.is(ValueKind::kBool)) return a.boolean == b.boolean;
  return as_number(a) == as_number(b);
}

}  // namespace sy::chat
