// Every faster activation converter this CPU supports must be bit-exact with its type's quantize_row: the
// conformance with llama.cpp rests on the activations rounding exactly alike.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/quant/quant.h"
#include "kernels/simd/cpu_features.h"

namespace sy::kernels {
namespace {

std::vector<float> tricky_input(int64_t n, std::mt19937& rng) {
  auto x = test::gaussian(static_cast<size_t>(n), rng);
  for (int64_t i = 0; i < 32 && i < n; ++i) x[i] = static_cast<float>(i) - 15.5f;  // exact halves after scaling
  if (n >= 64) x[32] = 127.f;                                                      // d = 1: the halves are ties
  for (int64_t i = 33; i < 64 && i < n; ++i) x[i] = static_cast<float>(i % 7) - 3.5f;
  if (n >= 96)
    for (int64_t i = 64; i < 96; ++i) x[i] = 0.f;  // an all-zero block
  if (n >= 512) {
    for (int64_t i = 256; i < 512; ++i) x[i] = (i % 2 ? 1.f : -1.f) * static_cast<float>(i % 5);  // ±4 tie for max
    x[300] = 1e-41f;                                                                              // subnormal
  }
  return x;
}

TEST(ActivationQuantize, EveryVariantIsBitExactWithTheScalarQuantiser) {
  const CpuFeatures& cpu = cpu_features();
  std::mt19937 rng(77);
  int checked = 0;
  for (const QuantKernels* k : all_kernels()) {
    for (const QuantizeVariant& v : k->quantize_variants) {
      if (!cpu.supports(v.isa)) continue;
      ++checked;
      const int64_t block = traits(k->type).block_elems;
      for (int64_t blocks : {1, 2, 3, 7, 16, 33}) {
        const int64_t n = block == 1 ? 256 * blocks + blocks % 5 : block * blocks;  // odd tails for F16/BF16
        const auto x = tricky_input(n, rng);
        std::vector<uint8_t> want(row_bytes(k->type, static_cast<uint64_t>(n))), got(want.size(), 0xcd);
        k->quantize_row(x.data(), want.data(), n);
        v.fn(x.data(), got.data(), n);
        ASSERT_EQ(got, want) << type_name(k->type) << " " << v.isa << " n=" << n;
      }
    }
  }
  if (cpu.avx512) {
    EXPECT_GE(checked, 5);
  }
}

TEST(ActivationQuantize, Bf16KeepsNaNsAndSubnormals) {
  const QuantKernels* k = find_kernels(TensorType::kBF16);
  std::vector<float> x(40, 0.f);
  x[1] = std::numeric_limits<float>::quiet_NaN();
  x[2] = 1e-40f;
  x[3] = -std::numeric_limits<float>::infinity();
  x[20] = std::numeric_limits<float>::signaling_NaN();
  std::vector<uint16_t> want(40), got(40);
  k->quantize_row(x.data(), want.data(), 40);
  best_quantize_row (*k)(x.data(), got.data(), 40);
  EXPECT_EQ(got, want);
  EXPECT_NE(got[2], 0);  // no flush to zero
}

}  // namespace
}  // namespace sy::kernels
