// The list of types that have kernels. Adding a type adds its own file and one line here.
#include <array>
#include <cstring>

#include "kernels/quant/quant.h"
#include "kernels/simd/cpu_features.h"

namespace sy::kernels {

extern const QuantKernels kF32Kernels;
extern const QuantKernels kF16Kernels;
extern const QuantKernels kBF16Kernels;
extern const QuantKernels kQ4_0Kernels;
extern const QuantKernels kQ4_1Kernels;
extern const QuantKernels kQ5_0Kernels;
extern const QuantKernels kQ5_1Kernels;
extern const QuantKernels kQ8_0Kernels;
extern const QuantKernels kQ8_1Kernels;
extern const QuantKernels kQ2_KKernels;
extern const QuantKernels kQ3_KKernels;
extern const QuantKernels kQ4_KKernels;
extern const QuantKernels kQ5_KKernels;
extern const QuantKernels kQ6_KKernels;
extern const QuantKernels kQ8_KKernels;
extern const QuantKernels kMXFP4Kernels;

namespace {
constexpr std::array<const QuantKernels*, 16> kAll = {&kF32Kernels,  &kF16Kernels,  &kBF16Kernels, &kQ4_0Kernels,
                                                      &kQ4_1Kernels, &kQ5_0Kernels, &kQ5_1Kernels, &kQ8_0Kernels,
                                                      &kQ8_1Kernels, &kQ2_KKernels, &kQ3_KKernels, &kQ4_KKernels,
                                                      &kQ5_KKernels, &kQ6_KKernels, &kQ8_KKernels, &kMXFP4Kernels};
}  // namespace

const QuantKernels* find_kernels(TensorType type) {
  for (const QuantKernels* k : kAll)
    if (k->type == type) return k;
  return nullptr;
}

namespace {
// The first variant of a fastest-first list that this CPU supports, else `fallback`.
template <typename Variant>
auto first_supported(std::span<const Variant> variants, decltype(Variant::fn) fallback) {
  const CpuFeatures& cpu = cpu_features();
  for (const Variant& v : variants)
    if (cpu.supports(v.isa)) return v.fn;
  return fallback;
}
}  // namespace

VecDotFn best_vec_dot(const QuantKernels& k) { return first_supported(k.simd_variants, k.vec_dot_ref); }
VecDotMultiFn best_vec_dot_multi(const QuantKernels& k) { return first_supported(k.multi_variants, nullptr); }
VecDotMultiFn best_vec_dot_gemm(const QuantKernels& k) { return first_supported(k.gemm_variants, nullptr); }
VecDotTileFn best_vec_dot_tile(const QuantKernels& k) {
  const CpuFeatures& cpu = cpu_features();
  for (const VecDotMultiVariant& m : k.multi_variants) {
    if (!cpu.supports(m.isa)) continue;
    for (const VecDotTileVariant& t : k.tile_variants)
      if (std::strcmp(t.isa, m.isa) == 0) return t.fn;
    return nullptr;
  }
  return nullptr;
}
VecDotFn best_vec_dot_plain(const QuantKernels& k) { return first_supported(k.plain_variants, nullptr); }
QuantizeRowFn best_quantize_row(const QuantKernels& k) { return first_supported(k.quantize_variants, k.quantize_row); }

std::span<const QuantKernels* const> all_kernels() { return kAll; }

}  // namespace sy::kernels
