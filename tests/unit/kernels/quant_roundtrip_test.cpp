// Reference quantisers against their dequantisers (error bounds from the block math), the activation
// quantisers' exact rounding, and every scalar vec_dot_ref against the dot of the dequantised rows.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernel_test_util.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"

namespace sy::kernels {
namespace {

constexpr int64_t kN = 1024;

struct Roundtrip {
  std::vector<float> x, y;
  std::vector<uint8_t> q;
};

Roundtrip roundtrip(TensorType type, const std::vector<float>& x) {
  const QuantKernels* k = find_kernels(type);
  Roundtrip r{x, std::vector<float>(x.size()), std::vector<uint8_t>(row_bytes(type, x.size()))};
  k->quantize_row(x.data(), r.q.data(), static_cast<int64_t>(x.size()));
  k->dequantize_row(r.q.data(), r.y.data(), static_cast<int64_t>(x.size()));
  return r;
}

double rms_relative_error(const Roundtrip& r) {
  double err = 0, ref = 0;
  for (size_t i = 0; i < r.x.size(); ++i) {
    err += (r.x[i] - r.y[i]) * static_cast<double>(r.x[i] - r.y[i]);
    ref += static_cast<double>(r.x[i]) * r.x[i];
  }
  return std::sqrt(err / ref);
}

std::vector<float> test_input(std::mt19937& rng) {
  auto x = test::gaussian(kN, rng);
  x[5] = 7.f;  // outliers, so blocks have different scales
  x[300] = -9.f;
  for (int i = 512; i < 544; ++i) x[i] = 0.f;  // an all-zero block
  return x;
}

// Per-element bound of the 32-element formats: half a step of the stored (f16) scale, plus what rounding the
// scale to f16 moves the largest code (2^-11 relative), plus `extra_steps` where the top code is clipped.
void expect_blockwise_error(TensorType type, float steps, int max_code) {
  std::mt19937 rng(7);
  const auto r = roundtrip(type, test_input(rng));
  const auto& t = traits(type);
  for (int64_t b = 0; b < kN / kQK; ++b) {
    uint16_t d16;
    std::memcpy(&d16, r.q.data() + b * t.block_bytes, 2);
    const float d = std::fabs(fp16_to_fp32(d16));
    const float bound = steps * d * (1 + 0x1p-10f) + max_code * d * 0x1p-10f + 1e-7f;
    for (int j = 0; j < kQK; ++j) {
      const int64_t i = b * kQK + j;
      ASSERT_LE(std::fabs(r.x[i] - r.y[i]), bound) << type_name(type) << " element " << i;
    }
  }
}

TEST(QuantRoundtrip, Q8_0WithinHalfStep) { expect_blockwise_error(TensorType::kQ8_0, 0.5f, 127); }
TEST(QuantRoundtrip, Q8_1WithinHalfStep) { expect_blockwise_error(TensorType::kQ8_1, 0.5f, 127); }
// The largest-magnitude element maps exactly to code 0; the opposite extreme may clip one step.
TEST(QuantRoundtrip, Q4_0WithinOneStep) { expect_blockwise_error(TensorType::kQ4_0, 1.f, 8); }
TEST(QuantRoundtrip, Q5_0WithinOneStep) { expect_blockwise_error(TensorType::kQ5_0, 1.f, 16); }
// d·q + m with m rounded to f16 as well: m is at most the block's largest magnitude (≈16 steps).
TEST(QuantRoundtrip, Q4_1WithinHalfStep) { expect_blockwise_error(TensorType::kQ4_1, 0.5f, 15 + 32); }
TEST(QuantRoundtrip, Q5_1WithinHalfStep) { expect_blockwise_error(TensorType::kQ5_1, 0.5f, 31 + 64); }

TEST(QuantRoundtrip, Mxfp4WithinTwoUnits) {
  // u = 2^(e−127). amax lies in [4u, 8u): below 6u the nearest code is at most 1u away (the widest gap is
  // 4u..6u); above, values clip to 6u, less than 2u away.
  std::mt19937 rng(7);
  const auto r = roundtrip(TensorType::kMXFP4, test_input(rng));
  for (int64_t b = 0; b < kN / kQK; ++b) {
    const float u = 2 * mxfp4_scale(r.q[b * sizeof(BlockMXFP4)]);
    for (int j = 0; j < kQK; ++j) {
      const int64_t i = b * kQK + j;
      ASSERT_LE(std::fabs(r.x[i] - r.y[i]), 2 * u) << i;
    }
  }
}

TEST(QuantRoundtrip, Q8_KWithinHalfStep) {
  std::mt19937 rng(7);
  const auto r = roundtrip(TensorType::kQ8_K, test_input(rng));
  const auto* b = reinterpret_cast<const BlockQ8_K*>(r.q.data());
  for (int64_t i = 0; i < kN; ++i) ASSERT_LE(std::fabs(r.x[i] - r.y[i]), std::fabs(b[i / kQKK].d) * 0.5001f) << i;
}

// K formats: a uniform quantiser with step Δ has RMS error Δ/√12. For N(0,1) data a sub-block of 32 spans about
// 4.1σ (16 elements: 3.5σ), so Δ ≈ 4.1/15 for Q4_K → 0.08σ; Q5_K 0.04σ; Q6_K (16 elements, step ≈ 1.8/32 each
// side) 0.02σ; Q3_K (±1.8σ in 8 steps) 0.13σ; Q2_K (3.5σ in 3 steps) 0.34σ. Bounds are 1.5× those.
TEST(QuantRoundtrip, KFormatsRmsError) {
  const std::pair<TensorType, double> bounds[] = {{TensorType::kQ2_K, 0.5},
                                                  {TensorType::kQ3_K, 0.2},
                                                  {TensorType::kQ4_K, 0.12},
                                                  {TensorType::kQ5_K, 0.06},
                                                  {TensorType::kQ6_K, 0.03}};
  for (auto [type, bound] : bounds) {
    std::mt19937 rng(11);
    const auto r = roundtrip(type, test::gaussian(kN * 4, rng));
    EXPECT_LE(rms_relative_error(r), bound) << type_name(type);
    EXPECT_GT(rms_relative_error(r), bound / 20) << type_name(type) << ": suspiciously exact";
  }
}

TEST(QuantRoundtrip, AllZeroRowsStayZero) {
  const std::vector<float> zeros(kN, 0.f);
  for (const QuantKernels* k : all_kernels()) {
    if (k->quantize_row == nullptr) continue;
    const auto r = roundtrip(k->type, zeros);
    for (float v : r.y) ASSERT_EQ(v, 0.f) << type_name(k->type);
  }
}

// The activation quantisers must round exactly as llama.cpp's CPU backend: Q8_0 ties go to even.
TEST(ActivationQuantisers, Q8_0RoundsHalvesToEven) {
  std::vector<float> x(32, 0.f);
  x[0] = 127.f;  // amax 127 → d = 1, id = 1
  x[1] = 2.5f;
  x[2] = -3.5f;
  x[3] = 0.5f;
  x[4] = 1.4999999f;
  const auto r = roundtrip(TensorType::kQ8_0, x);
  const auto* b = reinterpret_cast<const BlockQ8_0*>(r.q.data());
  EXPECT_EQ(b->d, 0x3c00);
  EXPECT_EQ(b->qs[0], 127);
  EXPECT_EQ(b->qs[1], 2);
  EXPECT_EQ(b->qs[2], -4);
  EXPECT_EQ(b->qs[3], 0);
  EXPECT_EQ(b->qs[4], 1);
}

TEST(ActivationQuantisers, Q8_1CachesScaledSum) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j) - 3.f;  // amax 28
  const auto r = roundtrip(TensorType::kQ8_1, x);
  const auto* b = reinterpret_cast<const BlockQ8_1*>(r.q.data());
  int sum = 0;
  for (int j = 0; j < 32; ++j) sum += b->qs[j];
  EXPECT_EQ(b->qs[31], 127);
  EXPECT_EQ(b->s, fp32_to_fp16(28.f / 127.f * static_cast<float>(sum)));
}

TEST(ActivationQuantisers, Q8_KSignConventionAndSums) {
  std::vector<float> x(256);
  std::mt19937 rng(3);
  x = test::gaussian(256, rng);
  x[17] = 10.f;  // the largest magnitude is positive → code −127, d negative
  const auto r = roundtrip(TensorType::kQ8_K, x);
  const auto* b = reinterpret_cast<const BlockQ8_K*>(r.q.data());
  EXPECT_EQ(b->qs[17], -127);
  EXPECT_FLOAT_EQ(b->d, -10.f / 127.f);
  for (int g = 0; g < 16; ++g) {
    int sum = 0;
    for (int j = 0; j < 16; ++j) sum += b->qs[16 * g + j];
    EXPECT_EQ(b->bsums[g], sum);
  }
  x[17] = -10.f;
  const auto r2 = roundtrip(TensorType::kQ8_K, x);
  EXPECT_EQ(reinterpret_cast<const BlockQ8_K*>(r2.q.data())->qs[17], -127);
  EXPECT_FLOAT_EQ(reinterpret_cast<const BlockQ8_K*>(r2.q.data())->d, 10.f / 127.f);
}

// vec_dot_ref(w, a) = Σ dequant(w)·dequant(a), up to float rounding of the per-block scale products. Q8_1's
// cached s = f16(d·Σq) adds up to 2^-10 of |m·d·Σq| per block (as in ggml).
TEST(VecDotRef, MatchesDequantisedDot) {
  std::mt19937 rng(5);
  for (const QuantKernels* k : all_kernels()) {
    if (k->vec_dot_ref == nullptr) continue;
    const QuantKernels* act = find_kernels(k->vec_dot_type);
    const int64_t block = traits(k->type).block_elems > traits(act->type).block_elems ? traits(k->type).block_elems
                                                                                      : traits(act->type).block_elems;
    for (int trial = 0; trial < 40; ++trial) {
      const int64_t n = block * (1 + trial % 9);
      const auto w = test::make_rows(k->type, 1, n, rng, trial % 2 == 1);
      const auto x = test::gaussian(static_cast<size_t>(n), rng);
      std::vector<uint8_t> a(row_bytes(act->type, static_cast<uint64_t>(n)));
      act->quantize_row(x.data(), a.data(), n);
      double abs_sum = 0;
      const double expected = test::dequantized_dot(*k, w.data(), *act, a.data(), n, &abs_sum);
      double tol = 1e-6 * abs_sum + 1e-30;
      if (act->type == TensorType::kQ8_1) {
        const int step = traits(k->type).block_bytes;
        for (int64_t b = 0; b < n / kQK; ++b) {
          uint16_t m16;
          std::memcpy(&m16, w.data() + b * step + 2, 2);
          const auto* ab = reinterpret_cast<const BlockQ8_1*>(a.data()) + b;
          int s = 0;
          for (int j = 0; j < 32; ++j) s += ab->qs[j];
          tol += 0x1p-10 * std::fabs(fp16_to_fp32(m16) * fp16_to_fp32(ab->d) * s) * 1.01;
        }
      }
      EXPECT_NEAR(k->vec_dot_ref(n, w.data(), a.data()), expected, tol)
          << type_name(k->type) << " n=" << n << " trial " << trial;
    }
  }
}

}  // namespace
}  // namespace sy::kernels
