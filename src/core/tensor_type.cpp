#include "core/tensor_type.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/error.h"

namespace sy {
namespace {

constexpr uint32_t kQK = 32;    // elements per block of the 32-element formats
constexpr uint32_t kQKK = 256;  // elements per super-block of the K and IQ formats

// Block sizes follow ggml-common.h. Each K/IQ entry is: f16 scale(s) + packed quants + packed scales.
constexpr std::array kTypes = {
    TensorTypeTraits{TensorType::kF32, "f32", 1, 4, false},
    TensorTypeTraits{TensorType::kF16, "f16", 1, 2, false},
    TensorTypeTraits{TensorType::kQ4_0, "q4_0", kQK, 2 + kQK / 2, true},
    TensorTypeTraits{TensorType::kQ4_1, "q4_1", kQK, 4 + kQK / 2, true},
    TensorTypeTraits{TensorType::kQ5_0, "q5_0", kQK, 2 + 4 + kQK / 2, true},
    TensorTypeTraits{TensorType::kQ5_1, "q5_1", kQK, 4 + 4 + kQK / 2, true},
    TensorTypeTraits{TensorType::kQ8_0, "q8_0", kQK, 2 + kQK, true},
    TensorTypeTraits{TensorType::kQ8_1, "q8_1", kQK, 4 + kQK, true},
    TensorTypeTraits{TensorType::kQ2_K, "q2_K", kQKK, 2 * 2 + kQKK / 16 + kQKK / 4, true},
    TensorTypeTraits{TensorType::kQ3_K, "q3_K", kQKK, 2 + kQKK / 4 + kQKK / 8 + 12, true},
    TensorTypeTraits{TensorType::kQ4_K, "q4_K", kQKK, 2 * 2 + 12 + kQKK / 2, true},
    TensorTypeTraits{TensorType::kQ5_K, "q5_K", kQKK, 2 * 2 + 12 + kQKK / 8 + kQKK / 2, true},
    TensorTypeTraits{TensorType::kQ6_K, "q6_K", kQKK, 2 + kQKK / 16 + 3 * kQKK / 4, true},
    TensorTypeTraits{TensorType::kQ8_K, "q8_K", kQKK, 4 + kQKK + kQKK / 16 * 2, true},
    TensorTypeTraits{TensorType::kIQ2_XXS, "iq2_xxs", kQKK, 2 + kQKK / 8 * 2, true},
    TensorTypeTraits{TensorType::kIQ2_XS, "iq2_xs", kQKK, 2 + kQKK / 8 * 2 + kQKK / 32, true},
    TensorTypeTraits{TensorType::kIQ3_XXS, "iq3_xxs", kQKK, 2 + 3 * kQKK / 8, true},
    TensorTypeTraits{TensorType::kIQ1_S, "iq1_s", kQKK, 2 + kQKK / 8 + kQKK / 16, true},
    TensorTypeTraits{TensorType::kIQ4_NL, "iq4_nl", kQK, 2 + kQK / 2, true},
    TensorTypeTraits{TensorType::kIQ3_S, "iq3_s", kQKK, 2 + kQKK / 4 + kQKK / 8 + kQKK / 32 + 4, true},
    TensorTypeTraits{TensorType::kIQ2_S, "iq2_s", kQKK, 2 + kQKK / 4 + kQKK / 32 + kQKK / 32, true},
    TensorTypeTraits{TensorType::kIQ4_XS, "iq4_xs", kQKK, 2 + 2 + kQKK / 64 + kQKK / 2, true},
    TensorTypeTraits{TensorType::kI8, "i8", 1, 1, false},
    TensorTypeTraits{TensorType::kI16, "i16", 1, 2, false},
    TensorTypeTraits{TensorType::kI32, "i32", 1, 4, false},
    TensorTypeTraits{TensorType::kI64, "i64", 1, 8, false},
    TensorTypeTraits{TensorType::kF64, "f64", 1, 8, false},
    TensorTypeTraits{TensorType::kIQ1_M, "iq1_m", kQKK, kQKK / 8 + kQKK / 16 + kQKK / 32, true},
    TensorTypeTraits{TensorType::kBF16, "bf16", 1, 2, false},
    TensorTypeTraits{TensorType::kTQ1_0, "tq1_0", kQKK, 2 + (kQKK - 4 * kQKK / 64) / 5 + kQKK / 64, true},
    TensorTypeTraits{TensorType::kTQ2_0, "tq2_0", kQKK, 2 + kQKK / 4, true},
    TensorTypeTraits{TensorType::kMXFP4, "mxfp4", kQK, 1 + kQK / 2, true},
};

constexpr bool ids_ascending() {
  for (size_t i = 1; i < kTypes.size(); ++i)
    if (static_cast<uint32_t>(kTypes[i - 1].type) >= static_cast<uint32_t>(kTypes[i].type)) return false;
  return true;
}
static_assert(ids_ascending(), "kTypes must be sorted by id so lookups can binary-search");

}  // namespace

const TensorTypeTraits* find_tensor_type(uint32_t id) {
  auto it = std::lower_bound(kTypes.begin(), kTypes.end(), id,
                             [](const TensorTypeTraits& t, uint32_t v) { return static_cast<uint32_t>(t.type) < v; });
  if (it == kTypes.end() || static_cast<uint32_t>(it->type) != id) return nullptr;
  return &*it;
}

const TensorTypeTraits& traits(TensorType type) {
  const auto* t = find_tensor_type(static_cast<uint32_t>(type));
  SY_ASSERT(t != nullptr, "every TensorType enumerator has a registry entry");
  return *t;
}

std::string_view type_name(TensorType type) { return traits(type).name; }

std::optional<TensorType> parse_tensor_type(std::string_view name) {
  for (const auto& t : kTypes) {
    if (t.name.size() != name.size()) continue;
    bool same = std::equal(t.name.begin(), t.name.end(), name.begin(), [](char a, char b) {
      return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    if (same) return t.type;
  }
  return std::nullopt;
}

std::span<const TensorTypeTraits> all_tensor_types() { return kTypes; }

}  // namespace sy
