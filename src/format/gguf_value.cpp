#include "format/gguf_value.h"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cstring>
#include <limits>

namespace sy::gguf {

std::string_view value_type_name(ValueType type) {
  static constexpr std::array<std::string_view, kValueTypeCount> kNames = {
      "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(type);
  return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

std::optional<int64_t> Value::as_int() const {
  return std::visit(
      [](const auto& v) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, uint64_t>) {
          if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
          return static_cast<int64_t>(v);
        } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          return static_cast<int64_t>(v);
        } else {
          return std::nullopt;  // bool, floats, strings and arrays are not integers
        }
      },
      data);
}

std::optional<double> Value::as_float() const {
  if (const auto* f = std::get_if<float>(&data)) return *f;
  if (const auto* d = std::get_if<double>(&data)) return *d;
  if (auto i = as_int()) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<bool> Value::as_bool() const {
  if (const auto* b = std::get_if<bool>(&data)) return *b;
  if (auto i = as_int(); i && (*i == 0 || *i == 1)) return *i == 1;
  return std::nullopt;
}

const std::string* Value::as_string() const { return std::get_if<std::string>(&data); }
const Array* Value::as_array() const { return std::get_if<Array>(&data); }

std::string Value::to_display(size_t max_items) const {
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          constexpr size_t kMaxChars = 120;
          std::string s = v.size() > kMaxChars ? v.substr(0, kMaxChars) + "…" : v;
          for (char& c : s)
            if (c == '\n' || c == '\r' || c == '\t') c = ' ';
          return fmt::format("\"{}\"", s);
        } else if constexpr (std::is_same_v<T, Array>) {
          std::string s = fmt::format("[{} x {}]", value_type_name(v.elem_type()), v.size());
          if (!v.empty() && max_items > 0) {
            s += " ";
            for (size_t i = 0; i < v.size() && i < max_items; ++i) s += (i ? ", " : "") + v.at(i).to_display(0);
            if (v.size() > max_items) s += ", …";
          }
          return s;
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t>) {
          return fmt::format("{}", static_cast<int>(v));
        } else {
          return fmt::format("{}", v);
        }
      },
      data);
}

bool operator==(const Value& a, const Value& b) { return a.data == b.data; }

namespace {

// The packed alternative that holds items of `type` (bools as u8); strings and arrays have none.
template <typename F>
void with_packed_type(ValueType type, F&& f) {
  switch (type) {
    case ValueType::kU8:
    case ValueType::kBool: return f(uint8_t{});
    case ValueType::kI8: return f(int8_t{});
    case ValueType::kU16: return f(uint16_t{});
    case ValueType::kI16: return f(int16_t{});
    case ValueType::kU32: return f(uint32_t{});
    case ValueType::kI32: return f(int32_t{});
    case ValueType::kF32: return f(float{});
    case ValueType::kU64: return f(uint64_t{});
    case ValueType::kI64: return f(int64_t{});
    case ValueType::kF64: return f(double{});
    case ValueType::kString:
    case ValueType::kArray: return;
  }
}

size_t value_heap_bytes(const Value& v) {
  if (const std::string* s = v.as_string()) return s->capacity() > 15 ? s->capacity() + 1 : 0;  // beyond SSO
  if (const Array* a = v.as_array()) return a->heap_bytes();
  return 0;
}

}  // namespace

Array::Array(ValueType elem_type) : elem_type_(elem_type) {
  with_packed_type(elem_type, [&](auto t) { packed_ = std::vector<decltype(t)>(); });
}

Array Array::from_packed_bytes(ValueType elem_type, const uint8_t* bytes, size_t count) {
  Array a(elem_type);
  with_packed_type(elem_type, [&](auto t) {
    using T = decltype(t);
    auto& v = std::get<std::vector<T>>(a.packed_);
    v.resize(count);
    static_assert(std::endian::native == std::endian::little, "GGUF numbers are little-endian: copied as they are");
    if (count > 0) std::memcpy(v.data(), bytes, count * sizeof(T));
  });
  return a;
}

size_t Array::size() const {
  if (!is_packed()) return values_.size();
  return std::visit([](const auto& v) { return v.size(); }, packed_);
}

std::span<const Value> Array::values() const { return values_; }

std::span<const uint8_t> Array::packed_bytes() const {
  if (!is_packed()) return {};
  return std::visit(
      [](const auto& v) {
        return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(v[0]));
      },
      packed_);
}

Value Array::at(size_t i) const {
  if (!is_packed()) return values_[i];
  if (elem_type_ == ValueType::kBool) return Value(std::get<std::vector<uint8_t>>(packed_)[i] != 0);
  return std::visit([&](const auto& v) { return Value(v[i]); }, packed_);
}

void Array::reserve(size_t n) {
  if (!is_packed()) return values_.reserve(n);
  std::visit([&](auto& v) { v.reserve(n); }, packed_);
}

bool Array::push_back(Value v) {
  if (v.type() != elem_type_) return false;
  if (!is_packed()) {
    values_.push_back(std::move(v));
  } else if (const bool* b = std::get_if<bool>(&v.data)) {
    std::get<std::vector<uint8_t>>(packed_).push_back(*b ? 1 : 0);
  } else {
    std::visit(
        [&](auto& items) {
          using T = typename std::decay_t<decltype(items)>::value_type;
          items.push_back(std::get<T>(v.data));
        },
        packed_);
  }
  return true;
}

size_t Array::heap_bytes() const {
  if (is_packed()) return std::visit([](const auto& v) { return v.capacity() * sizeof(v[0]); }, packed_);
  size_t n = values_.capacity() * sizeof(Value);
  for (const Value& v : values_) n += value_heap_bytes(v);
  return n;
}

bool operator==(const Array& a, const Array& b) {
  if (a.elem_type_ != b.elem_type_) return false;
  return a.is_packed() ? a.packed_ == b.packed_ : a.values_ == b.values_;
}

Array make_array_of_arrays(const std::vector<Array>& items) {
  Array a(ValueType::kArray);
  a.reserve(items.size());
  for (const auto& item : items) {
    const bool ok = a.push_back(Value(item));
    (void)ok;  // an array into an array of arrays
  }
  return a;
}

Array make_string_array(const std::vector<std::string>& items) {
  Array a(ValueType::kString);
  a.reserve(items.size());
  for (const auto& s : items) {
    const bool ok = a.push_back(Value(s));
    (void)ok;  // a string into a string array
  }
  return a;
}

}  // namespace sy::gguf
