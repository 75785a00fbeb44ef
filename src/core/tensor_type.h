// The low tier of the one registry of tensor types (STYLE.md §3): GGUF id, name, and the block geometry the
// reader needs to validate sizes. Kernels (dequantise, quantise, dot products) live in kernels/quant/ and are
// keyed by the same ids. The ids are ggml's and are stored in files: never renumber or reuse one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sy {

enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  // 4 and 5 were Q4_2 and Q4_3, retired upstream.
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
};

struct TensorTypeTraits {
  TensorType type;
  std::string_view name;  // as ggml spells it: "q4_K", "mxfp4", ...
  uint32_t block_elems;   // elements per block (1 for plain types)
  uint32_t block_bytes;   // bytes per block
  bool quantized;
};

// nullptr for an id that is not a known tensor type.
const TensorTypeTraits* find_tensor_type(uint32_t id);
// Traits of a known type (every enumerator above is known).
const TensorTypeTraits& traits(TensorType type);
std::string_view type_name(TensorType type);
// Looks a type up by its ggml name, case-insensitively ("Q8_0", "q4_k", "mxfp4").
std::optional<TensorType> parse_tensor_type(std::string_view name);
// Every known type, in id order.
std::span<const TensorTypeTraits> all_tensor_types();

// Bytes of a row of `n_elems` elements; n_elems must be a multiple of the block size.
inline uint64_t row_bytes(TensorType type, uint64_t n_elems) {
  const auto& t = traits(type);
  return n_elems / t.block_elems * t.block_bytes;
}

}  // namespace sy
