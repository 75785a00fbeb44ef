// The per-lane emulation of llama.cpp's AVX-512 float ops (kernels/ops/lane_math.h) and the two builds of the
// ops that use it: the FMA build must give the same bits as the portable one, since both stand for the same
// reference, and the vector exp must be an exp.
#include "kernels/ops/lane_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/ops/attention.h"
#include "kernels/quant/quant.h"
#include "kernels/simd/cpu_features.h"

namespace sy::kernels {
namespace baseline {
double softmax_exp(const float* x, float max, float* y, int64_t n);
void swiglu(const float* gate, const float* up, int64_t n, float* out);
void attention_one(const AttentionArgs& a, VecDotFn dot, int64_t t, int64_t h, float* scratch);
}  // namespace baseline
namespace avx2 {
double softmax_exp(const float* x, float max, float* y, int64_t n);
void swiglu(const float* gate, const float* up, int64_t n, float* out);
void attention_one(const AttentionArgs& a, VecDotFn dot, int64_t t, int64_t h, float* scratch);
}  // namespace avx2

namespace {

std::vector<float> random_values(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

TEST(LaneMath, ExpIsWithinItsStatedErrorOfLibm) {
  // ggml states 1.45 ulp + 0.5 for this polynomial; allow 3 ulp of relative error against libm.
  for (float x : random_values(20000, -87.0f, 88.0f, 1)) {
    const double want = std::exp(static_cast<double>(x));
    EXPECT_NEAR(lanes::exp(x) / want, 1.0, 3.6e-7) << "x = " << x;
  }
  EXPECT_EQ(lanes::exp(0.0f), 1.0f);
  EXPECT_EQ(lanes::exp(-INFINITY), 0.0f);  // masked attention cells
  EXPECT_EQ(lanes::exp(-200.0f), 0.0f);
  EXPECT_TRUE(std::isinf(lanes::exp(200.0f)));
  // Results below the normal range round once, like scalef: e^-100 is about 3.7e-44.
  EXPECT_NEAR(lanes::exp(-100.0f), std::exp(-100.0), 2e-45);
}

TEST(LaneMath, ReduceAddsInTheAvx512Tree) {
  // Order matters for these values: lanes i and i+8 meet first, so 1e8 and -1e8 cancel before the 1s join.
  float v[16] = {};
  v[0] = 1e8f;
  v[8] = -1e8f;
  for (int i = 1; i < 8; ++i) v[i] = 1.0f;
  EXPECT_EQ(lanes::reduce(v), 7.0f);
  // A left-to-right sum would lose the 1s against 1e8: (1e8 + 1) + ... = 1e8, then −1e8 gives 0.
  float left = 0.0f;
  for (float x : v) left += x;
  EXPECT_NE(left, 7.0f);
}

TEST(LaneMath, FmaBuildGivesTheSameBitsAsThePortableOne) {
  if (!cpu_features().avx2) GTEST_SKIP() << "this CPU has no AVX2+FMA build to compare";
  const auto x = random_values(203, -30.0f, 10.0f, 2);  // 12 groups of 16 and a remainder of 11
  std::vector<float> y0(x.size()), y1(x.size());
  EXPECT_EQ(baseline::softmax_exp(x.data(), 10.0f, y0.data(), 203), avx2::softmax_exp(x.data(), 10.0f, y1.data(), 203));
  EXPECT_EQ(y0, y1);
  const auto up = random_values(203, -3.0f, 3.0f, 3);
  baseline::swiglu(x.data(), up.data(), 203, y0.data());
  avx2::swiglu(x.data(), up.data(), 203, y1.data());
  EXPECT_EQ(y0, y1);

  // One query row against 37 cached keys, GQA with a sliding window, a sink, batched and single-token orders.
  const int64_t n_head = 4, n_kv_head = 2, dk = 24, dv = 20, n_pos = 37;
  const auto q = random_values(n_head * dk, -1.0f, 1.0f, 4);
  const auto k = random_values(n_pos * n_kv_head * dk, -1.0f, 1.0f, 5);
  const auto v = random_values(n_pos * n_kv_head * dv, -1.0f, 1.0f, 6);
  const std::vector<float> sinks = {0.5f, -1.0f, 2.0f, 0.0f};
  const VecDotFn dot = best_vec_dot(*find_kernels(TensorType::kF32));
  for (int64_t n_tokens : {1, 2}) {
    std::vector<float> out0(n_head * dv), out1(n_head * dv), scratch(static_cast<size_t>(64 + 64 * dv));
    AttentionArgs a{.q = q.data(),
                    .q_token_stride = 0,
                    .k = k.data(),
                    .k_row_stride = n_kv_head * dk,
                    .v = v.data(),
                    .v_row_stride = n_kv_head * dv,
                    .n_tokens = n_tokens,
                    .pos0 = n_pos - n_tokens,
                    .n_head = n_head,
                    .n_head_kv = n_kv_head,
                    .head_dim_k = dk,
                    .head_dim_v = dv,
                    .scale = 0.2f,
                    .sinks = sinks.data(),
                    .window = 30,
                    .out = nullptr,
                    .out_token_stride = 0};
    for (int64_t h = 0; h < n_head; ++h) {
      a.out = out0.data();
      baseline::attention_one(a, dot, n_tokens - 1, h, scratch.data());
      a.out = out1.data();
      avx2::attention_one(a, dot, n_tokens - 1, h, scratch.data());
    }
    EXPECT_EQ(out0, out1) << n_tokens << " tokens";
  }
}

}  // namespace
}  // namespace sy::kernels
