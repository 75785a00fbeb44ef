// Every SIMD variant this CPU supports against the scalar reference, over many random rows and lengths.
// Integer block sums are exact in both, so the only allowed difference is float summation order.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <string_view>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/matmul/matmul.h"
#include "kernels/quant/quant.h"
#include "kernels/simd/cpu_features.h"

namespace sy::kernels {
namespace {

TEST(SimdVecDot, EverySupportedVariantMatchesTheReference) {
  const CpuFeatures& cpu = cpu_features();
  std::mt19937 rng(1234);
  int checked_variants = 0;
  for (const QuantKernels* k : all_kernels()) {
    if (k->vec_dot_ref == nullptr) continue;
    const QuantKernels* act = find_kernels(k->vec_dot_type);
    const int64_t block = std::max(traits(k->type).block_elems, traits(act->type).block_elems);
    // The plain-order variants (for the matrices llama.cpp does not repack) are dot products like the others.
    std::vector<VecDotVariant> variants(k->simd_variants.begin(), k->simd_variants.end());
    variants.insert(variants.end(), k->plain_variants.begin(), k->plain_variants.end());
    for (const VecDotVariant& v : variants) {
      if (!cpu.supports(v.isa)) continue;
      ++checked_variants;
      for (int trial = 0; trial < 60; ++trial) {
        // Lengths: 1..17 blocks (odd counts exercise the paired loops' tails), plus a few long rows.
        const int64_t n = block * (trial < 51 ? 1 + trial % 17 : 64 + trial);
        const bool random_bytes = trial % 3 != 0;
        const auto w = test::make_rows(k->type, 1, n, rng, random_bytes);
        const auto x = test::gaussian(static_cast<size_t>(n), rng);
        std::vector<uint8_t> a(row_bytes(act->type, static_cast<uint64_t>(n)));
        act->quantize_row(x.data(), a.data(), n);
        const float ref = k->vec_dot_ref(n, w.data(), a.data());
        const float got = v.fn(n, w.data(), a.data());
        ASSERT_NEAR(got, ref, test::reorder_tolerance(*k, *act, w.data(), a.data(), n))
            << type_name(k->type) << " " << v.isa << " n=" << n << " trial " << trial;
      }
    }
  }
  if (cpu.avx2) {
    EXPECT_GE(checked_variants, 10) << cpu.to_string();
  }
}

// Each multi-row variant (and each gemm-order one) gives, for every activation row, what the scalar reference
// gives for that row.
TEST(SimdVecDot, EveryMultiRowVariantMatchesTheReferencePerRow) {
  const CpuFeatures& cpu = cpu_features();
  std::mt19937 rng(4321);
  for (const QuantKernels* k : all_kernels()) {
    const QuantKernels* act = find_kernels(k->vec_dot_type);
    std::vector<VecDotMultiVariant> variants(k->multi_variants.begin(), k->multi_variants.end());
    variants.insert(variants.end(), k->gemm_variants.begin(), k->gemm_variants.end());
    for (const VecDotMultiVariant& v : variants) {
      if (!cpu.supports(v.isa)) continue;
      const int64_t block = std::max(traits(k->type).block_elems, traits(act->type).block_elems);
      for (int trial = 0; trial < 36; ++trial) {
        // 1..7 blocks, then 8..18: the 32-element formats take eight blocks per step with pairs and one block
        // as tails.
        const int64_t n = block * (trial < 14 ? 1 + trial % 7 : 8 + trial % 11);
        const int n_act = 1 + trial % kMaxDotRows;
        const auto w = test::make_rows(k->type, 1, n, rng, trial % 2 == 0);
        const size_t stride = row_bytes(act->type, static_cast<uint64_t>(n)) + 8;  // stride need not be the row size
        std::vector<uint8_t> a(stride * kMaxDotRows);
        for (int j = 0; j < n_act; ++j) {
          const auto x = test::gaussian(static_cast<size_t>(n), rng);
          act->quantize_row(x.data(), a.data() + j * stride, n);
        }
        float out[kMaxDotRows];
        v.fn(n, w.data(), a.data(), stride, n_act, out);
        for (int j = 0; j < n_act; ++j)
          ASSERT_NEAR(out[j], k->vec_dot_ref(n, w.data(), a.data() + j * stride),
                      test::reorder_tolerance(*k, *act, w.data(), a.data() + j * stride, n))
              << type_name(k->type) << " " << v.isa << " n=" << n << " row " << j << " of " << n_act;
      }
    }
  }
}

// Batches of several sequences send tokens of different sequences through one multi-token call only where
// that gives each token exactly the single-token kernel's bits (matmul.h, multi_matches_single): checked here
// bit for bit for every type that claims it, and at least the x86 integer types must claim it on AVX2.
TEST(SimdVecDot, MultiTokenKernelsGiveSingleTokenBits) {
  std::mt19937 rng(777);
  int claimed = 0;
  for (const QuantKernels* k : all_kernels()) {
    if (!multi_matches_single(k->type)) continue;
    ++claimed;
    const QuantKernels* act = find_kernels(k->vec_dot_type);
    const VecDotMultiFn multi = best_vec_dot_multi(*k);
    const VecDotFn single = best_vec_dot(*k);
    ASSERT_NE(multi, nullptr) << type_name(k->type);
    const int64_t block = std::max(traits(k->type).block_elems, traits(act->type).block_elems);
    for (int trial = 0; trial < 24; ++trial) {
      const int64_t n = block * (1 + trial % 9);
      const int n_act = 1 + trial % kMaxDotRows;
      const auto w = test::make_rows(k->type, 1, n, rng, trial % 2 == 0);
      const size_t stride = row_bytes(act->type, static_cast<uint64_t>(n));
      std::vector<uint8_t> a(stride * kMaxDotRows);
      for (int j = 0; j < n_act; ++j) {
        const auto x = test::gaussian(static_cast<size_t>(n), rng);
        act->quantize_row(x.data(), a.data() + j * stride, n);
      }
      float out[kMaxDotRows];
      multi(n, w.data(), a.data(), stride, n_act, out);
      for (int j = 0; j < n_act; ++j)
        ASSERT_EQ(out[j], single(n, w.data(), a.data() + j * stride))
            << type_name(k->type) << " n=" << n << " row " << j << " of " << n_act;
    }
  }
  if (cpu_features().avx2 && !cpu_features().avx512) {
    EXPECT_TRUE(multi_matches_single(TensorType::kQ8_0));
    EXPECT_TRUE(multi_matches_single(TensorType::kQ4_K));
    EXPECT_TRUE(multi_matches_single(TensorType::kQ6_K));
  }
  if (cpu_features().avx2 && !cpu_features().avx512) EXPECT_GE(claimed, 3);
}

// Each tile variant (several weight rows × several tokens per call) gives every (row, token) the bits of the
// multi-row variant of its ISA, for every row and token count, odd lengths and strides that are not the row size.
TEST(SimdVecDot, EveryTileVariantGivesItsMultiVariantsBits) {
  const CpuFeatures& cpu = cpu_features();
  std::mt19937 rng(2468);
  int checked = 0;
  for (const QuantKernels* k : all_kernels()) {
    const QuantKernels* act = find_kernels(k->vec_dot_type);
    for (const VecDotTileVariant& tile : k->tile_variants) {
      if (!cpu.supports(tile.isa)) continue;
      VecDotMultiFn multi = nullptr;
      for (const VecDotMultiVariant& m : k->multi_variants)
        if (std::string_view(m.isa) == tile.isa) multi = m.fn;
      ASSERT_NE(multi, nullptr) << type_name(k->type) << " " << tile.isa << ": a tile needs its multi variant";
      ++checked;
      const int64_t block = std::max(traits(k->type).block_elems, traits(act->type).block_elems);
      for (int trial = 0; trial < 96; ++trial) {
        const int64_t n = block * (1 + trial % 9);
        const int n_act = 1 + trial % kMaxDotRows;
        const int n_rows = 1 + (trial / kMaxDotRows) % kTileRows;
        const size_t w_stride = row_bytes(k->type, static_cast<uint64_t>(n)) + 16 * (trial % 2);
        const size_t a_stride = row_bytes(act->type, static_cast<uint64_t>(n)) + 4 * (trial % 3);
        std::vector<uint8_t> w(w_stride * kTileRows);
        for (int r = 0; r < n_rows; ++r) {
          const auto row = test::make_rows(k->type, 1, n, rng, trial % 4 != 0);
          std::copy(row.begin(), row.end(), w.begin() + static_cast<std::ptrdiff_t>(r * w_stride));
        }
        std::vector<uint8_t> a(a_stride * kMaxDotRows);
        for (int j = 0; j < n_act; ++j) {
          const auto x = test::gaussian(static_cast<size_t>(n), rng);
          act->quantize_row(x.data(), a.data() + j * a_stride, n);
        }
        float got[kTileRows * kMaxDotRows];
        tile.fn(n, w.data(), w_stride, n_rows, a.data(), a_stride, n_act, got);
        for (int r = 0; r < n_rows; ++r) {
          float want[kMaxDotRows];
          multi(n, w.data() + r * w_stride, a.data(), a_stride, n_act, want);
          for (int j = 0; j < n_act; ++j)
            ASSERT_EQ(std::bit_cast<uint32_t>(got[r * kMaxDotRows + j]), std::bit_cast<uint32_t>(want[j]))
                << type_name(k->type) << " " << tile.isa << " n=" << n << " row " << r << " of " << n_rows << ", token "
                << j << " of " << n_act;
        }
      }
    }
  }
  if (cpu.avx2 && !cpu.avx512) {
    EXPECT_GE(checked, 1);
    EXPECT_NE(best_vec_dot_tile(*find_kernels(TensorType::kQ4_K)), nullptr);
  }
}

TEST(SimdVecDot, BestVariantIsTheFirstSupported) {
  const CpuFeatures& cpu = cpu_features();
  for (const QuantKernels* k : all_kernels()) {
    if (k->vec_dot_ref == nullptr) continue;
    VecDotFn expected = k->vec_dot_ref;
    for (const VecDotVariant& v : k->simd_variants)
      if (cpu.supports(v.isa)) {
        expected = v.fn;
        break;
      }
    EXPECT_EQ(best_vec_dot(*k), expected) << type_name(k->type);
  }
}

}  // namespace
}  // namespace sy::kernels
