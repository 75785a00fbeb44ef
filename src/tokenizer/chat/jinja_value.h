// Runtime values of the template interpreter, modelled on @huggingface/jinja's: numbers are JS doubles
// tagged integer or float, objects keep insertion order, arrays and objects are shared by reference (so
// `==` on them is identity, as in JS) and strings are immutable and shared so copies are cheap.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sy::chat {

enum class ValueKind : uint8_t {
  kUndefined,
  kNull,
  kBool,
  kInteger,
  kFloat,
  kString,
  kArray,
  kTuple,
  kObject,
  kKeywordArgs,
  kNamespace,
  kFunction,
};

struct Value;
struct ObjectData;
struct FunctionData;
using ArrayData = std::vector<Value>;

struct Value {
  ValueKind kind = ValueKind::kUndefined;
  bool boolean = false;
  double number = 0;
  std::shared_ptr<const std::string> str;
  std::shared_ptr<ArrayData> array;    // kArray, kTuple
  std::shared_ptr<ObjectData> object;  // kObject, kKeywordArgs, kNamespace
  std::shared_ptr<FunctionData> function;

  static Value undefined() { return {}; }
  static Value null() { return make(ValueKind::kNull); }
  static Value from_bool(bool b) {
    Value v = make(ValueKind::kBool);
    v.boolean = b;
    return v;
  }
  static Value integer(double n) {
    Value v = make(ValueKind::kInteger);
    v.number = n;
    return v;
  }
  static Value floating(double n) {
    Value v = make(ValueKind::kFloat);
    v.number = n;
    return v;
  }
  static Value string(std::string s) {
    Value v = make(ValueKind::kString);
    v.str = std::make_shared<const std::string>(std::move(s));
    return v;
  }
  static Value make_array(ArrayData items, ValueKind kind = ValueKind::kArray) {
    Value v = make(kind);
    v.array = std::make_shared<ArrayData>(std::move(items));
    return v;
  }
  static Value make_object(ValueKind kind = ValueKind::kObject);

  bool is(ValueKind k) const { return kind == k; }
  bool is_number() const { return kind == ValueKind::kInteger || kind == ValueKind::kFloat; }
  bool is_array() const { return kind == ValueKind::kArray || kind == ValueKind::kTuple; }
  // Objects in the ObjectValue sense (keyword arguments are one); namespaces are not mappings.
  bool is_mapping() const { return kind == ValueKind::kObject || kind == ValueKind::kKeywordArgs; }
  bool has_attributes() const { return is_mapping() || kind == ValueKind::kNamespace; }
  const std::string& s() const { return *str; }

 private:
  static Value make(ValueKind k) {
    Value v;
    v.kind = k;
    return v;
  }
};

// Insertion-ordered string map (JS Map semantics: re-setting a key keeps its place). Small maps (loop
// variables, most message objects) are searched linearly; a hash index is built once they grow.
struct ObjectData {
  std::vector<std::pair<std::string, Value>> entries;

  const Value* find(const std::string& key) const {
    if (index_.empty()) {
      for (const auto& [k, v] : entries)
        if (k == key) return &v;
      return nullptr;
    }
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &entries[it->second].second;
  }
  void set(const std::string& key, Value value) {
    if (Value* existing = const_cast<Value*>(find(key))) {
      *existing = std::move(value);
      return;
    }
    entries.emplace_back(key, std::move(value));
    if (!index_.empty()) {
      index_.emplace(key, entries.size() - 1);
    } else if (entries.size() > kLinearLimit) {
      for (size_t i = 0; i < entries.size(); ++i) index_.emplace(entries[i].first, i);
    }
  }

  void clear() {
    entries.clear();
    index_.clear();
  }

 private:
  static constexpr size_t kLinearLimit = 16;
  std::unordered_map<std::string, size_t> index_;
};

inline Value Value::make_object(ValueKind kind) {
  Value v = make(kind);
  v.object = std::make_shared<ObjectData>();
  return v;
}

// Arguments of a call: positional values, then keyword arguments in the order written.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;
  const Value* keyword(std::string_view name) const {
    for (const auto& [k, v] : keywords)
      if (k == name) return &v;
    return nullptr;
  }
};

// A template error raised while rendering. The interpreter fills in the position of the innermost node
// being evaluated when the thrower did not know it.
struct TemplateError {
  std::string message;
  uint32_t offset = 0;
  bool located = false;
};

class Interpreter;
struct Environment;

struct FunctionData {
  std::string name;  // for error messages
  std::function<Value(Interpreter&, CallArgs&, const std::shared_ptr<Environment>& caller)> call;
};

const char* kind_name(ValueKind kind);

// JS truthiness, with Python's rule that empty arrays and mappings are false.
bool truthy(const Value& v);

inline constexpr size_t kNoSizeLimit = ~size_t{0};

// What `{{ v }}` prints (RuntimeValue.toString()); throws TemplateError for a function, or when the text
// would pass max_bytes (a list holding one large string many times would otherwise print terabytes).
std::string to_output_string(const Value& v, size_t max_bytes = kNoSizeLimit);

// `String(v.value)` as JS string concatenation (`~`, `+`) sees it: a float 1.0 is "1", not "1.0".
std::string raw_to_string(const Value& v, size_t max_bytes = kNoSizeLimit);

struct JsonOptions {
  int indent = 0;  // 0: one line
  bool ensure_ascii = false;
  bool sort_keys = false;
  bool custom_separators = false;
  std::string item_separator, key_separator;
  bool undefined_as_null = true;    // `tojson` writes null; printing an array shows "undefined"
  size_t max_bytes = kNoSizeLimit;  // TemplateError past this
};
// The `tojson` filter (Python json.dumps spacing: ", " and ": "). Throws TemplateError for a function, a
// tuple (as the reference does), nesting past kMaxJsonDepth (a namespace can contain itself) or max_bytes.
inline constexpr int kMaxJsonDepth = 512;
void append_json(std::string& out, const Value& v, const JsonOptions& options, int depth = 0);

// JS `==` on the underlying values (loose equality) and `===` (strict, used by `in`).
bool loose_equal(const Value& a, const Value& b);
bool strict_equal(const Value& a, const Value& b);

}  // namespace sy::chat
