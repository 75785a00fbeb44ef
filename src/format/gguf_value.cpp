#include "format/gguf_value.h"

#include <fmt/format.h>

#include <array>
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
          std::string s = fmt::format("[{} x {}]", value_type_name(v.elem_type), v.items.size());
          if (!v.items.empty() && max_items > 0) {
            s += " ";
            for (size_t i = 0; i < v.items.size() && i < max_items; ++i)
              s += (i ? ", " : "") + v.items[i].to_display(0);
            if (v.items.size() > max_items) s += ", …";
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

bool operator==(const Array& a, const Array& b) { return a.elem_type == b.elem_type && a.items == b.items; }

Array make_string_array(const std::vector<std::string>& items) {
  Array a;
  a.elem_type = ValueType::kString;
  a.items.reserve(items.size());
  for (const auto& s : items) a.items.emplace_back(s);
  return a;
}

}  // namespace sy::gguf
