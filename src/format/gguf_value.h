// GGUF metadata values. The variant's alternatives are in GGUF value-type order, so index() is the type id.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
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

template <typename T>
concept PackedNumber = std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t> || std::is_same_v<T, uint16_t> ||
    std::is_same_v<T, int16_t> || std::is_same_v<T, uint32_t> || std::is_same_v<T, int32_t> ||
    std::is_same_v<T, float> || std::is_same_v<T, uint64_t> || std::is_same_v<T, int64_t> || std::is_same_v<T, double>;

// An array of one element type. Numbers and bools are stored packed, as in the file (bools as u8 0/1), so an
// array of N u8 costs N bytes, not N variants of ~40 bytes each: a file's metadata never takes more memory
// than a small multiple of its size. Strings and nested arrays are Values.
class Array {
 public:
  Array() = default;  // an empty array of u8
  explicit Array(ValueType elem_type);
  // The packed items of a number (or bool) array, copied from little-endian file bytes. `count * size` must
  // fit in `bytes` (the caller checked it against the file).
  static Array from_packed_bytes(ValueType elem_type, const uint8_t* bytes, size_t count);

  ValueType elem_type() const { return elem_type_; }
  size_t size() const;
  bool empty() const { return size() == 0; }
  // Item i (< size()) as a Value: a copy, cheap for numbers; strings and arrays are copied too, so loops over
  // those read values() instead.
  Value at(size_t i) const;
  // The items of a number array whose element type is stored as T (kBool as uint8_t); empty otherwise.
  template <PackedNumber T>
  std::span<const T> numbers() const {
    const auto* v = std::get_if<std::vector<T>>(&packed_);
    return v != nullptr && is_packed() ? std::span<const T>(*v) : std::span<const T>();
  }
  // The object bytes of a number array's items (little-endian, as in a file); empty for strings and arrays.
  std::span<const uint8_t> packed_bytes() const;
  // The items of a string or array array; empty for number arrays.
  std::span<const Value> values() const;

  void reserve(size_t n);
  // Appends one item; false (and nothing appended) when its type is not elem_type.
  [[nodiscard]] bool push_back(Value v);
  // The heap bytes the array holds, nested strings and arrays included (tests bound memory with it).
  size_t heap_bytes() const;

  friend bool operator==(const Array& a, const Array& b);

 private:
  bool is_packed() const { return elem_type_ != ValueType::kString && elem_type_ != ValueType::kArray; }
  using Packed = std::variant<std::vector<uint8_t>, std::vector<int8_t>, std::vector<uint16_t>, std::vector<int16_t>,
                              std::vector<uint32_t>, std::vector<int32_t>, std::vector<float>, std::vector<uint64_t>,
                              std::vector<int64_t>, std::vector<double>>;
  ValueType elem_type_ = ValueType::kU8;
  Packed packed_;              // numbers and bools: the alternative of elem_type_
  std::vector<Value> values_;  // strings and arrays
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

// Typed array builders for writers.
Array make_string_array(const std::vector<std::string>& items);
// An array of arrays (each item may have its own element type).
Array make_array_of_arrays(const std::vector<Array>& items);
template <typename T>
Array make_array(const std::vector<T>& items) {
  Array a(Value(T{}).type());
  a.reserve(items.size());
  for (const T& v : items) {
    const bool ok = a.push_back(Value(static_cast<T>(v)));
    (void)ok;  // T's own type: always accepted
  }
  return a;
}

}  // namespace sy::gguf
