// The list of types that have kernels. Adding a type adds its own file and one line here.
#include <array>

#include "kernels/quant/quant.h"
#include "kernels/simd/cpu_features.h"

namespace sy::kernels {

extern const QuantKernels kF32Kernels;
extern const QuantKernels kF16Kernels;
extern const QuantKernels kBF16Kernels;

namespace {
constexpr std::array<const QuantKernels*, 3> kAll = {&kF32Kernels, &kF16Kernels, &kBF16Kernels};
}  // namespace

const QuantKernels* find_kernels(TensorType type) {
  for (const QuantKernels* k : kAll)
    if (k->type == type) return k;
  return nullptr;
}

VecDotFn best_vec_dot(const QuantKernels& kernels) {
  const CpuFeatures& cpu = cpu_features();
  for (const auto& v : kernels.simd_variants)
    if (cpu.supports(v.isa)) return v.fn;
  return kernels.vec_dot_ref;
}

std::span<const QuantKernels* const> all_kernels() { return kAll; }

}  // namespace sy::kernels
