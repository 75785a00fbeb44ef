// Filters, tests, member functions and globals, with @huggingface/jinja's behaviour (including its
// departures from Python Jinja, e.g. strip('\n') ignores its argument and strips all whitespace). Anything
// the reference lacks is an error naming the filter, test or member, never a silent guess.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <unordered_set>

#include "tokenizer/chat/jinja_eval.h"
#include "tokenizer/chat/js_text.h"

namespace sy::chat {
namespace {

[[noreturn]] void raise(std::string message) { throw TemplateError{std::move(message)}; }

Value make_function(std::string name, std::function<Value(Interpreter&, CallArgs&, const EnvPtr&)> call) {
  Value v;
  v.kind = ValueKind::kFunction;
  v.function = std::make_shared<FunctionData>();
  v.function->name = std::move(name);
  v.function->call = std::move(call);
  return v;
}

Value string_value(Interpreter& in, std::string s) {
  in.check_string_size(s.size());
  in.charge(s.size());
  return Value::string(std::move(s));
}

// parseInt(s, 10): leading whitespace, sign, then as many digits as there are; NaN when none.
double js_parse_int(std::string_view s) {
  s = js_trim_start(s);
  size_t i = 0;
  double sign = 1;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? -1 : 1;
  const size_t start = i;
  double v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
  return i == start ? NAN : sign * v;
}

// parseFloat: the longest prefix that is a decimal literal (or Infinity); NaN when none.
double js_parse_float(std::string_view s) {
  s = js_trim_start(s);
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (s.substr(i, 8) == "Infinity") return s[0] == '-' ? -INFINITY : INFINITY;
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return NAN;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < s.size() && s[j] >= '0' && s[j] <= '9') {
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
      i = j;
    }
  }
  return std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
}

// Sort order of the `sort` filter and dictsort: numbers (and booleans) together, strings case-folded unless
// asked, none with none; anything else cannot be compared.
int compare_values(const Value& a, const Value& b, bool case_sensitive) {
  if (a.is(ValueKind::kNull) && b.is(ValueKind::kNull)) return 0;
  if (a.is(ValueKind::kNull) || b.is(ValueKind::kNull))
    raise(fmt::format("cannot compare {} with {}", kind_name(a.kind), kind_name(b.kind)));
  if (a.is(ValueKind::kUndefined) && b.is(ValueKind::kUndefined)) return 0;
  if (a.is(ValueKind::kUndefined) || b.is(ValueKind::kUndefined))
    raise(fmt::format("cannot compare {} with {}", kind_name(a.kind), kind_name(b.kind)));
  auto numeric_like = [](const Value& v) { return v.is_number() || v.is(ValueKind::kBool); };
  auto numeric = [](const Value& v) { return v.is(ValueKind::kBool) ? (v.boolean ? 1.0 : 0.0) : v.number; };
  if (numeric_like(a) && numeric_like(b)) {
    const double x = numeric(a), y = numeric(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.kind != b.kind)
    raise(fmt::format("cannot compare different types: {} and {}", kind_name(a.kind), kind_name(b.kind)));
  if (!a.is(ValueKind::kString)) raise(fmt::format("cannot compare values of type {}", kind_name(a.kind)));
  const std::string x = case_sensitive ? *a.str : ascii_lower(*a.str);
  const std::string y = case_sensitive ? *b.str : ascii_lower(*b.str);
  return x < y ? -1 : x > y ? 1 : 0;
}

// The `attribute` path of sort/map: "a.b.0" walks mappings by key and lists by index.
Value attribute_path(const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v.has_attributes()) {
      const Value* found = v.object->find(part);
      v = found ? *found : Value::undefined();
    } else if (v.is_array()) {
      const double index = js_parse_int(part);
      if (std::isnan(index) || index < 0 || index >= static_cast<double>(v.array->size())) return Value::undefined();
      v = (*v.array)[static_cast<size_t>(index)];
    } else {
      return Value::undefined();
    }
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

// Positional argument i, else keyword `name`, else nullptr.
const Value* argument(const CallArgs& args, size_t i, std::string_view name) {
  if (i < args.positional.size()) return &args.positional[i];
  return args.keyword(name);
}

bool bool_argument(const CallArgs& args, size_t i, std::string_view name, bool fallback, const char* filter) {
  const Value* v = argument(args, i, name);
  if (!v) return fallback;
  if (!v->is(ValueKind::kBool)) raise(fmt::format("{}: '{}' must be a boolean", filter, name));
  return v->boolean;
}

std::string join_raw(Interpreter& in, const ArrayData& items, std::string_view separator) {
  const size_t max_bytes = in.limits().max_output_bytes;
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    // Array.prototype.join writes null and undefined as nothing.
    if (!items[i].is(ValueKind::kNull) && !items[i].is(ValueKind::kUndefined))
      out += raw_to_string(items[i], max_bytes);
    in.check_string_size(out.size());
  }
  return out;
}

std::string title_case(std::string_view s) {
  // JS /\b\w/g with ASCII word characters: the first word character after a non-word one is upper-cased.
  std::string out(s);
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t i = 0; i < out.size(); ++i)
    if (is_word(out[i]) && (i == 0 || !is_word(out[i - 1])) && out[i] >= 'a' && out[i] <= 'z')
      out[i] = static_cast<char>(out[i] - 'a' + 'A');
  return out;
}

std::string capitalize(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string js_replace(Interpreter& in, const std::string& s, const std::string& from, const std::string& to,
                       double count) {
  if (count == 0) return s;
  double remaining = (std::isnan(count) || count < 0) ? INFINITY : count;
  std::string out;
  if (from.empty()) {
    // An empty pattern matches before every code point and at the end.
    for (size_t i = 0; i <= s.size();) {
      if (remaining > 0) {
        out += to;
        --remaining;
      }
      if (i == s.size()) break;
      size_t len = 0;
      decode_utf8(s, i, len);
      out.append(s, i, len);
      i += len;
      in.check_string_size(out.size());
    }
    return out;
  }
  size_t pos = 0;
  for (;;) {
    const size_t hit = remaining > 0 ? s.find(from, pos) : std::string::npos;
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    --remaining;
    pos = hit + from.size();
    in.check_string_size(out.size());
  }
  out.append(s, pos, std::string::npos);
  return out;
}

Value string_split(Interpreter& in, const std::string& s, const CallArgs& args) {
  const Value* sep = args.positional.size() > 0 ? &args.positional[0] : nullptr;
  const Value* max_v = args.positional.size() > 1 ? &args.positional[1] : nullptr;
  if (sep && !sep->is(ValueKind::kString) && !sep->is(ValueKind::kNull))
    raise("split(): separator must be a string or none");
  if (max_v && !max_v->is(ValueKind::kInteger)) raise("split(): maxsplit must be an integer");
  const double maxsplit = max_v ? max_v->number : -1;
  ArrayData parts;
  if (!sep || sep->is(ValueKind::kNull)) {
    const std::string_view text = js_trim_start(s);
    size_t i = 0;
    while (i < text.size()) {
      size_t start = i;
      while (i < text.size() && !js_space_length(text, i)) {
        size_t len = 0;
        decode_utf8(text, i, len);
        i += len;
      }
      if (maxsplit != -1 && static_cast<double>(parts.size()) >= maxsplit) {
        parts.push_back(Value::string(std::string(text.substr(start))));
        break;
      }
      parts.push_back(Value::string(std::string(text.substr(start, i - start))));
      while (size_t len = js_space_length(text, i)) i += len;
    }
  } else {
    const std::string& d = *sep->str;
    if (d.empty()) raise("split(): empty separator");
    std::vector<std::string> pieces;
    size_t pos = 0;
    for (;;) {
      const size_t hit = s.find(d, pos);
      if (hit == std::string::npos) break;
      pieces.push_back(s.substr(pos, hit - pos));
      pos = hit + d.size();
    }
    pieces.push_back(s.substr(pos));
    if (maxsplit != -1 && static_cast<double>(pieces.size()) > maxsplit) {
      const auto keep = static_cast<size_t>(std::max(maxsplit, 0.0));
      std::string rest;
      for (size_t i = keep; i < pieces.size(); ++i) {
        if (i > keep) rest += d;
        rest += pieces[i];
      }
      pieces.resize(keep);
      pieces.push_back(std::move(rest));
    }
    for (auto& p : pieces) parts.push_back(Value::string(std::move(p)));
  }
  in.check_items(parts.size());
  in.charge(parts.size());
  return Value::make_array(std::move(parts));
}

// The reference passes keyword arguments as a trailing mapping that these methods then reject as a bad
// positional argument; an error here keeps us from silently doing something else.
const CallArgs& no_keywords(const CallArgs& args, const char* method) {
  if (!args.keywords.empty()) raise(fmt::format("{}() does not take keyword arguments", method));
  return args;
}

Value prefix_test(const std::string& s, const CallArgs& args, bool at_start, const char* name) {
  if (args.positional.empty()) raise(fmt::format("{}() needs an argument", name));
  auto matches = [&](const std::string& p) {
    if (p.size() > s.size()) return false;
    return at_start ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0;
  };
  const Value& pattern = args.positional[0];
  if (pattern.is(ValueKind::kString)) return Value::from_bool(matches(*pattern.str));
  if (pattern.is_array()) {
    for (const auto& item : *pattern.array) {
      if (!item.is(ValueKind::kString)) raise(fmt::format("{}(): tuple items must be strings", name));
      if (matches(*item.str)) return Value::from_bool(true);
    }
    return Value::from_bool(false);
  }
  raise(fmt::format("{}(): argument must be a string or a tuple of strings", name));
}

Value string_member(Interpreter&, const Value& self, const std::string& name) {
  const std::string s = *self.str;  // methods keep their own copy of the (immutable) text
  const auto str = self.str;
  if (name == "length") return Value::integer(static_cast<double>(utf16_length(s)));
  using Fn = std::function<Value(Interpreter&, CallArgs&)>;
  Fn fn;
  if (name == "upper")
    fn = [str](Interpreter&, CallArgs&) { return Value::string(ascii_upper(*str)); };
  else if (name == "lower")
    fn = [str](Interpreter&, CallArgs&) { return Value::string(ascii_lower(*str)); };
  // The reference ignores strip()'s argument: strip('\n') removes every kind of surrounding whitespace.
  else if (name == "strip")
    fn = [str](Interpreter&, CallArgs&) { return Value::string(std::string(js_trim(*str))); };
  else if (name == "lstrip")
    fn = [str](Interpreter&, CallArgs&) { return Value::string(std::string(js_trim_start(*str))); };
  else if (name == "rstrip")
    fn = [str](Interpreter&, CallArgs&) { return Value::string(std::string(js_trim_end(*str))); };
  else if (name == "title")
    fn = [str](Interpreter&, CallArgs&) { return Value::string(title_case(*str)); };
  else if (name == "capitalize")
    fn = [str](Interpreter&, CallArgs&) { return Value::string(capitalize(*str)); };
  else if (name == "startswith")
    fn = [str](Interpreter&, CallArgs& a) {
      return prefix_test(*str, no_keywords(a, "startswith"), true, "startswith");
    };
  else if (name == "endswith")
    fn = [str](Interpreter&, CallArgs& a) { return prefix_test(*str, no_keywords(a, "endswith"), false, "endswith"); };
  else if (name == "split")
    fn = [str](Interpreter& in, CallArgs& a) { return string_split(in, *str, no_keywords(a, "split")); };
  else if (name == "replace")
    fn = [str](Interpreter& in, CallArgs& a) {
      if (a.positional.size() < 2) raise("replace() needs two arguments");
      const Value& from = a.positional[0];
      const Value& to = a.positional[1];
      if (!from.is(ValueKind::kString) || !to.is(ValueKind::kString)) raise("replace(): arguments must be strings");
      const Value* count = a.positional.size() > 2 ? &a.positional[2] : a.keyword("count");
      if (count && !count->is(ValueKind::kInteger) && !count->is(ValueKind::kNull))
        raise("replace(): count must be an integer");
      const double n = (count && count->is(ValueKind::kInteger)) ? count->number : -1;
      return string_value(in, js_replace(in, *str, *from.str, *to.str, n));
    };
  else
    return Value::undefined();
  return make_function(name, [fn](Interpreter& in, CallArgs& a, const EnvPtr&) { return fn(in, a); });
}

Value items_of(const Value& obj) {
  ArrayData items;
  for (const auto& [k, v] : obj.object->entries) items.push_back(Value::make_array({Value::string(k), v}));
  return Value::make_array(std::move(items));
}

Value dictsort(const Value& obj, const CallArgs& args) {
  const bool case_sensitive = bool_argument(args, 0, "case_sensitive", false, "dictsort");
  const Value* by = argument(args, 1, "by");
  if (by && !by->is(ValueKind::kString)) raise("dictsort: 'by' must be a string");
  const std::string by_what = by ? *by->str : "key";
  if (by_what != "key" && by_what != "value") raise("dictsort: 'by' must be 'key' or 'value'");
  const bool reverse = bool_argument(args, 2, "reverse", false, "dictsort");
  Value items = items_of(obj);
  const size_t which = by_what == "key" ? 0 : 1;
  std::stable_sort(items.array->begin(), items.array->end(), [&](const Value& a, const Value& b) {
    const int c = compare_values((*a.array)[which], (*b.array)[which], case_sensitive);
    return reverse ? c > 0 : c < 0;
  });
  return items;
}

Value mapping_member(const Value& self, const std::string& name) {
  const Value obj = self;
  if (name == "get")
    return make_function("get", [obj](Interpreter&, CallArgs& a, const EnvPtr&) {
      no_keywords(a, "get");
      if (a.positional.empty() || !a.positional[0].is(ValueKind::kString)) raise("get(): the key must be a string");
      if (const Value* v = obj.object->find(*a.positional[0].str)) return *v;
      return a.positional.size() > 1 ? a.positional[1] : Value::null();
    });
  if (name == "items")
    return make_function("items", [obj](Interpreter&, CallArgs&, const EnvPtr&) { return items_of(obj); });
  if (name == "keys")
    return make_function("keys", [obj](Interpreter&, CallArgs&, const EnvPtr&) {
      ArrayData keys;
      for (const auto& [k, v] : obj.object->entries) keys.push_back(Value::string(k));
      return Value::make_array(std::move(keys));
    });
  if (name == "values")
    return make_function("values", [obj](Interpreter&, CallArgs&, const EnvPtr&) {
      ArrayData values;
      for (const auto& [k, v] : obj.object->entries) values.push_back(v);
      return Value::make_array(std::move(values));
    });
  if (name == "dictsort")
    return make_function("dictsort", [obj](Interpreter&, CallArgs& a, const EnvPtr&) { return dictsort(obj, a); });
  return Value::undefined();
}

JsonOptions json_options(const CallArgs& args) {
  JsonOptions o;
  if (!args.positional.empty())
    raise("tojson takes keyword arguments only (indent=, ensure_ascii=, sort_keys=, separators=)");
  for (const auto& [key, v] : args.keywords) {
    if (key == "indent") {
      if (!v.is(ValueKind::kInteger) && !v.is(ValueKind::kNull)) raise("tojson: indent must be an integer");
      if (v.is(ValueKind::kInteger)) o.indent = static_cast<int>(std::clamp(v.number, 0.0, 64.0));
    } else if (key == "ensure_ascii") {
      if (!v.is(ValueKind::kBool)) raise("tojson: ensure_ascii must be a boolean");
      o.ensure_ascii = v.boolean;
    } else if (key == "sort_keys") {
      if (!v.is(ValueKind::kBool)) raise("tojson: sort_keys must be a boolean");
      o.sort_keys = v.boolean;
    } else if (key == "separators") {
      if (v.is(ValueKind::kNull)) continue;
      if (!v.is_array() || v.array->size() != 2 || !(*v.array)[0].is(ValueKind::kString) ||
          !(*v.array)[1].is(ValueKind::kString))
        raise("tojson: separators must be a tuple of two strings");
      o.custom_separators = true;
      o.item_separator = *(*v.array)[0].str;
      o.key_separator = *(*v.array)[1].str;
    }
  }
  return o;
}

Value to_json(Interpreter& in, const Value& v, JsonOptions o) {
  o.max_bytes = in.limits().max_output_bytes;
  std::string out;
  append_json(out, v, o);
  return string_value(in, std::move(out));
}

Value indent_filter(Interpreter& in, const std::string& s, int width, bool first, bool blank) {
  const std::string pad(static_cast<size_t>(std::max(width, 0)), ' ');
  std::string out;
  size_t start = 0;
  for (size_t line = 0;; ++line) {
    const size_t nl = s.find('\n', start);
    const std::string_view text =
        std::string_view(s).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (line) out += '\n';
    if (!((!first && line == 0) || (!blank && text.empty()))) out += pad;
    out += text;
    in.check_string_size(out.size());
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return string_value(in, std::move(out));
}

Value plain_filter(Interpreter& in, const Value& v, const std::string& name) {
  if (name == "safe") return v;
  if (name == "tojson") return to_json(in, v, JsonOptions{});
  if (v.is_array()) {
    const ArrayData& items = *v.array;
    if (name == "list") return v;
    if (name == "first") return items.empty() ? Value::undefined() : items.front();
    if (name == "last") return items.empty() ? Value::undefined() : items.back();
    if (name == "length") return Value::integer(static_cast<double>(items.size()));
    if (name == "reverse") return Value::make_array(ArrayData(items.rbegin(), items.rend()));
    if (name == "sort") {
      ArrayData sorted = items;
      std::stable_sort(sorted.begin(), sorted.end(),
                       [](const Value& a, const Value& b) { return compare_values(a, b, false) < 0; });
      return Value::make_array(std::move(sorted));
    }
    if (name == "join") return string_value(in, join_raw(in, items, ""));
    if (name == "string") {
      JsonOptions o;
      o.undefined_as_null = false;
      return to_json(in, v, o);
    }
    if (name == "unique") {
      ArrayData out;
      for (const auto& item : items) {
        // A JS Set compares primitives by value (NaN equal to itself) and objects by identity.
        bool seen = false;
        for (const auto& kept : out)
          if (strict_equal(kept, item) ||
              (kept.is_number() && item.is_number() && std::isnan(kept.number) && std::isnan(item.number))) {
            seen = true;
            break;
          }
        if (!seen) out.push_back(item);
      }
      return Value::make_array(std::move(out));
    }
  } else if (v.is(ValueKind::kString)) {
    const std::string& s = *v.str;
    if (name == "length") return Value::integer(static_cast<double>(utf16_length(s)));
    if (name == "upper") return Value::string(ascii_upper(s));
    if (name == "lower") return Value::string(ascii_lower(s));
    if (name == "title") return Value::string(title_case(s));
    if (name == "capitalize") return Value::string(capitalize(s));
    if (name == "trim") return Value::string(std::string(js_trim(s)));
    if (name == "indent") return indent_filter(in, s, 4, false, false);
    if (name == "join" || name == "string") return v;
    if (name == "int") {
      const double x = js_parse_int(s);
      return Value::integer(std::isnan(x) ? 0 : x);
    }
    if (name == "float") {
      const double x = js_parse_float(s);
      return Value::floating(std::isnan(x) ? 0 : x);
    }
  } else if (v.is_number()) {
    if (name == "abs")
      return v.is(ValueKind::kInteger) ? Value::integer(std::fabs(v.number)) : Value::floating(std::fabs(v.number));
    if (name == "int") return Value::integer(std::floor(v.number));
    if (name == "float") return Value::floating(v.number);
    if (name == "string") return Value::string(to_output_string(v, in.limits().max_output_bytes));
  } else if (v.is_mapping()) {
    if (name == "items") return items_of(v);
    if (name == "length") return Value::integer(static_cast<double>(v.object->entries.size()));
    const Value member = mapping_member(v, name);
    if (member.is(ValueKind::kFunction)) {
      CallArgs none;
      return member.function->call(in, none, nullptr);
    }
  } else if (v.is(ValueKind::kBool)) {
    if (name == "bool") return v;
    if (name == "int") return Value::integer(v.boolean ? 1 : 0);
    if (name == "float") return Value::floating(v.boolean ? 1 : 0);
    if (name == "string") return Value::string(v.boolean ? "true" : "false");
  }
  raise(fmt::format("unsupported filter '{}' on a {}", name, kind_name(v.kind)));
}

Value call_filter(Interpreter& in, const Value& v, const std::string& name, const Node& call, const EnvPtr& env) {
  // selectattr / rejectattr take literal strings only, as in the reference.
  if ((name == "selectattr" || name == "rejectattr") && v.is_array()) {
    for (const auto& item : *v.array)
      if (!item.has_attributes()) raise(fmt::format("{} can only be applied to a list of mappings", name));
    for (const auto& arg : call.args)
      if (arg->kind != NodeKind::kString) raise(fmt::format("arguments of {} must be string literals", name));
    if (call.args.empty()) raise(fmt::format("{} needs an attribute name", name));
    const std::string& attr = call.args[0]->text;
    const std::string* test = call.args.size() > 1 ? &call.args[1]->text : nullptr;
    const Value value = call.args.size() > 2 ? Value::string(call.args[2]->text) : Value::undefined();
    if (test && !has_test(*test)) raise(fmt::format("unknown test '{}'", *test));
    ArrayData out;
    for (const auto& item : *v.array) {
      const Value* a = item.object->find(attr);
      const bool result = a ? (test ? apply_test(*test, *a, &value) : truthy(*a)) : false;
      if (result == (name == "selectattr")) out.push_back(item);
    }
    return Value::make_array(std::move(out));
  }
  CallArgs args = [&] {
    // Reuse the interpreter's argument evaluation through a synthetic call of nothing.
    CallArgs a;
    for (const auto& arg : call.args) {
      if (arg->kind == NodeKind::kKeywordArg) {
        a.keywords.emplace_back(arg->text, in.evaluate(*arg->a, env));
      } else if (arg->kind == NodeKind::kSpread || arg->kind == NodeKind::kKeywordSpread) {
        raise(fmt::format("argument unpacking is not supported in filter '{}'", name));
      } else {
        a.positional.push_back(in.evaluate(*arg, env));
      }
    }
    return a;
  }();
  if (name == "tojson") return to_json(in, v, json_options(args));
  if (name == "join") {
    const Value* sep = argument(args, 0, "separator");
    if (sep && !sep->is(ValueKind::kString)) raise("join: separator must be a string");
    const std::string separator = sep ? *sep->str : "";
    if (v.is(ValueKind::kString)) {
      std::string out;
      const std::string& s = *v.str;
      for (size_t i = 0; i < s.size();) {
        size_t len = 0;
        decode_utf8(s, i, len);
        if (i) out += separator;
        out.append(s, i, len);
        i += len;
        in.check_string_size(out.size());
      }
      return string_value(in, std::move(out));
    }
    if (v.is_array()) return string_value(in, join_raw(in, *v.array, separator));
    raise(fmt::format("join cannot apply to a {}", kind_name(v.kind)));
  }
  if (name == "int" || name == "float") {
    const bool is_int = name == "int";
    const Value* def = argument(args, 0, "default");
    const Value fallback = def ? *def : (is_int ? Value::integer(0) : Value::floating(0));
    if (v.is(ValueKind::kString)) {
      const double x = is_int ? js_parse_int(*v.str) : js_parse_float(*v.str);
      return std::isnan(x) ? fallback : (is_int ? Value::integer(x) : Value::floating(x));
    }
    if (v.is_number()) return v;
    if (v.is(ValueKind::kBool)) return is_int ? Value::integer(v.boolean ? 1 : 0) : Value::floating(v.boolean ? 1 : 0);
    raise(fmt::format("{} cannot apply to a {}", name, kind_name(v.kind)));
  }
  if (name == "default" || name == "d") {
    if (name == "d") raise("unsupported filter 'd' (write 'default')");
    const Value fallback = !args.positional.empty() ? args.positional[0] : Value::string("");
    const bool boolean = bool_argument(args, 1, "boolean", false, "default");
    if (v.is(ValueKind::kUndefined) || (boolean && !truthy(v))) return fallback;
    return v;
  }
  if (v.is_array()) {
    if (name == "sort") {
      const bool reverse = bool_argument(args, 0, "reverse", false, "sort");
      const bool case_sensitive = bool_argument(args, 1, "case_sensitive", false, "sort");
      const Value* attr = argument(args, 2, "attribute");
      if (attr && !attr->is(ValueKind::kString) && !attr->is(ValueKind::kInteger) && !attr->is(ValueKind::kNull))
        raise("sort: attribute must be a string, an integer or none");
      const bool by_attr = attr && !attr->is(ValueKind::kNull);
      const std::string path =
          by_attr ? (attr->is(ValueKind::kString) ? *attr->str : js_number_to_string(attr->number)) : "";
      ArrayData sorted = *v.array;
      std::stable_sort(sorted.begin(), sorted.end(), [&](const Value& a, const Value& b) {
        const int c = by_attr ? compare_values(attribute_path(a, path), attribute_path(b, path), case_sensitive)
                              : compare_values(a, b, case_sensitive);
        return reverse ? c > 0 : c < 0;
      });
      return Value::make_array(std::move(sorted));
    }
    if (name == "map") {
      const Value* attr = args.keyword("attribute");
      if (!attr) raise("map without attribute= is not supported");
      if (!attr->is(ValueKind::kString)) raise("map: attribute must be a string");
      const Value* def = args.keyword("default");
      ArrayData out;
      for (const auto& item : *v.array) {
        if (!item.has_attributes()) raise("map: items must be mappings");
        Value x = attribute_path(item, *attr->str);
        out.push_back(x.is(ValueKind::kUndefined) && def ? *def : x);
      }
      return Value::make_array(std::move(out));
    }
  } else if (v.is(ValueKind::kString)) {
    if (name == "indent") {
      const Value* width = argument(args, 0, "width");
      if (width && !width->is(ValueKind::kInteger)) raise("indent: width must be an integer");
      const Value* first = argument(args, 1, "first");
      const Value* blank = argument(args, 2, "blank");
      return indent_filter(in, *v.str, width ? static_cast<int>(std::clamp(width->number, 0.0, 1024.0)) : 4,
                           first && truthy(*first), blank && truthy(*blank));
    }
    if (name == "replace") {
      const Value method = string_member(in, v, "replace");
      return method.function->call(in, args, env);
    }
  } else if (v.is_mapping()) {
    const Value member = mapping_member(v, name);
    if (member.is(ValueKind::kFunction)) return member.function->call(in, args, env);
  }
  raise(fmt::format("unsupported filter '{}' with arguments on a {}", name, kind_name(v.kind)));
}

bool is_js_lower(const std::string& s) { return s == ascii_lower(s); }
bool is_js_upper(const std::string& s) { return s == ascii_upper(s); }

const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};

std::string strftime_js(std::time_t now, const std::string& format) {
  std::tm tm{};
  localtime_r(&now, &tm);
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 >= format.size()) {
      out += format[i];
      continue;
    }
    const char c = format[i + 1];
    switch (c) {
      case 'Y': out += std::to_string(tm.tm_year + 1900); break;
      case 'm': out += fmt::format("{:02}", tm.tm_mon + 1); break;
      case 'd': out += fmt::format("{:02}", tm.tm_mday); break;
      case 'b': out += std::string(kMonths[tm.tm_mon]).substr(0, 3); break;
      case 'B': out += kMonths[tm.tm_mon]; break;
      case 'H': out += fmt::format("{:02}", tm.tm_hour); break;
      case 'M': out += fmt::format("{:02}", tm.tm_min); break;
      case '%': out += '%'; break;
      default:
        out += '%';
        out += c;
        break;
    }
    ++i;
  }
  return out;
}

}  // namespace

bool has_test(const std::string& name) {
  static const std::unordered_set<std::string> kTests{
      "boolean",  "callable", "odd",      "even",  "false", "true",    "none",      "string",  "number", "integer",
      "iterable", "mapping",  "sequence", "lower", "upper", "defined", "undefined", "equalto", "eq"};
  return kTests.count(name) != 0;
}

bool apply_test(const std::string& name, const Value& v, const Value* arg) {
  if (name == "boolean") return v.is(ValueKind::kBool);
  if (name == "callable") return v.is(ValueKind::kFunction);
  if (name == "odd" || name == "even") {
    if (!v.is(ValueKind::kInteger)) raise(fmt::format("test '{}' needs an integer, not {}", name, kind_name(v.kind)));
    const bool odd = std::fmod(v.number, 2) != 0;
    return name == "odd" ? odd : !odd;
  }
  if (name == "false") return v.is(ValueKind::kBool) && !v.boolean;
  if (name == "true") return v.is(ValueKind::kBool) && v.boolean;
  if (name == "none") return v.is(ValueKind::kNull);
  if (name == "string") return v.is(ValueKind::kString);
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is(ValueKind::kInteger);
  if (name == "iterable")
    return v.is(ValueKind::kArray) || v.is(ValueKind::kString);  // not tuples, as in the reference
  if (name == "mapping") return v.is_mapping();
  if (name == "sequence") return v.is_array() || v.is_mapping() || v.is(ValueKind::kString);
  if (name == "lower" || name == "upper") {
    if (!v.is(ValueKind::kString)) raise(fmt::format("test '{}' needs a string, not {}", name, kind_name(v.kind)));
    return name == "lower" ? is_js_lower(*v.str) : is_js_upper(*v.str);
  }
  if (name == "defined") return !v.is(ValueKind::kUndefined);
  if (name == "undefined") return v.is(ValueKind::kUndefined);
  if (name == "equalto" || name == "eq") return arg ? strict_equal(v, *arg) : v.is(ValueKind::kUndefined);
  raise(fmt::format("unknown test '{}'", name));
}

Value builtin_member(Interpreter& in, const Value& object, const std::string& name) {
  if (object.is(ValueKind::kString)) return string_member(in, object, name);
  if (object.is_array())
    return name == "length" ? Value::integer(static_cast<double>(object.array->size())) : Value::undefined();
  if (object.is_mapping()) return mapping_member(object, name);
  return Value::undefined();
}

Value apply_filter(Interpreter& in, const Value& operand, const Node& filter, const EnvPtr& env) {
  if (filter.kind == NodeKind::kIdentifier) return plain_filter(in, operand, filter.text);
  if (filter.kind == NodeKind::kCall && filter.a->kind == NodeKind::kIdentifier)
    return call_filter(in, operand, filter.a->text, filter, env);
  raise("a filter must be a name or a call of a name");
}

void add_builtin_globals(Environment& env, std::time_t now) {
  env.variables["namespace"] = make_function("namespace", [](Interpreter& in, CallArgs& a, const EnvPtr&) {
    if (a.positional.size() > 1)
      raise(fmt::format("namespace() takes at most 1 positional argument, {} given", a.positional.size()));
    Value ns = Value::make_object(ValueKind::kNamespace);
    in.track_namespace(ns.object);
    if (a.positional.size() == 1) {
      const Value& source = a.positional[0];
      if (source.is_mapping()) {
        for (const auto& [k, v] : source.object->entries) ns.object->set(k, v);
      } else if (source.is_array()) {
        for (const auto& pair : *source.array) {
          if (!pair.is_array() || pair.array->size() != 2 || !(*pair.array)[0].is(ValueKind::kString))
            raise("namespace() expects a mapping or a list of [key, value] pairs");
          ns.object->set(*(*pair.array)[0].str, (*pair.array)[1]);
        }
      } else {
        raise(fmt::format("namespace() cannot take a {}", kind_name(source.kind)));
      }
    }
    for (const auto& [k, v] : a.keywords) ns.object->set(k, v);
    return ns;
  });
  env.variables["false"] = env.variables["False"] = Value::from_bool(false);
  env.variables["true"] = env.variables["True"] = Value::from_bool(true);
  env.variables["none"] = env.variables["None"] = Value::null();
  env.variables["raise_exception"] =
      make_function("raise_exception", [](Interpreter&, CallArgs& a, const EnvPtr&) -> Value {
        raise(
            fmt::format("raise_exception: {}", a.positional.empty() ? std::string() : raw_to_string(a.positional[0])));
      });
  env.variables["range"] = make_function("range", [](Interpreter& in, CallArgs& a, const EnvPtr&) {
    if (a.positional.empty() || a.positional.size() > 3 || !a.keywords.empty())
      raise("range() takes 1 to 3 positional arguments");
    for (const auto& v : a.positional)
      if (!v.is_number()) raise(fmt::format("range() arguments must be numbers, not {}", kind_name(v.kind)));
    double start = 0, stop = a.positional[0].number, step = 1;
    if (a.positional.size() >= 2) {
      start = a.positional[0].number;
      stop = a.positional[1].number;
    }
    if (a.positional.size() == 3) step = a.positional[2].number;
    if (step == 0 || std::isnan(step)) raise("range() step must not be zero");
    ArrayData items;
    for (double i = start; step > 0 ? i < stop : i > stop; i += step) {
      in.check_items(items.size() + 1);
      in.charge(1);
      items.push_back(std::floor(i) == i ? Value::integer(i) : Value::floating(i));
    }
    return Value::make_array(std::move(items));
  });
  env.variables["strftime_now"] = make_function("strftime_now", [now](Interpreter&, CallArgs& a, const EnvPtr&) {
    if (a.positional.empty() || !a.positional[0].is(ValueKind::kString)) raise("strftime_now() needs a format string");
    return Value::string(strftime_js(now, *a.positional[0].str));
  });
}

}  // namespace sy::chat
