// GGUF metadata values. The variant's alternatives are in GGUF value-type order, so index() is the type id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sy::gguf {

// Stored in files: explicit values, never renumbered.
enum class ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
inline constexpr uint32_t kValueTypeCount = 13;
std::string_view value_type_name(ValueType type);

struct Value;

struct Array {
  ValueType elem_type = ValueType::kU8;
  std::vector<Value> items;  // each holds elem_type
};

struct Value {
  using Data = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string, Array,
                            uint64_t, int64_t, double>;
  Data data;

  Value() = default;
  // Implicit on purpose: values read like literals (w.set("n", 8), Value("text")). The constraint keeps the
  // forwarding constructor away from copies and moves of Value itself.
  // clang-format off
  template <typename T>
    requires std::is_constructible_v<Data, T&&>
  Value(T&& v) : data(std::forward<T>(v)) {}  // NOLINT(google-explicit-constructor,bugprone-forwarding-reference-overload)
  Value(const char* s) : data(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  // clang-format on

  ValueType type() const { return static_cast<ValueType>(data.index()); }

  // Conversions that succeed only when the stored value fits the asked-for kind exactly.
  std::optional<int64_t> as_int() const;   // any integer type (u64 above INT64_MAX fails)
  std::optional<double> as_float() const;  // f32, f64, or any integer
  std::optional<bool> as_bool() const;     // bool, or an integer 0/1
  const std::string* as_string() const;
  const Array* as_array() const;

  // A short human rendering: scalars in full, arrays as "[type x N]" plus the first items.
  std::string to_display(size_t max_items = 8) const;

  // Same type and same contents, recursively (floats compare as numbers: NaN differs from itself).
  friend bool operator==(const Value& a, const Value& b);
};

bool operator==(const Array& a, const Array& b);

// Typed array builders for writers.
Array make_string_array(const std::vector<std::string>& items);
template <typename T>
Array make_array(const std::vector<T>& items) {
  Array a;
  a.elem_type = Value(T{}).type();
  a.items.reserve(items.size());
  for (const T& v : items) a.items.emplace_back(v);
  return a;
}

}  // namespace sy::gguf
