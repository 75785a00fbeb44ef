// The body of attention() for one (token, head), compiled twice like elementwise_body.h: in attention.cpp for any
// x86-64 and in attention_avx2.cpp with FMA. It follows llama.cpp's graph without flash attention, whose KV
// length is padded with masked cells to a multiple of 256 (so 16-value groups count from position 0):
//   scores  ggml_vec_dot_f32 per key (the registry's F32 dot has its order), times the scale;
//   softmax ggml_soft_max_ext: groups of 16 through the vector exp, each group's sum reduced in its lane tree and
//           added in double, masked cells exactly 0, the sink (if any) in the denominator only;
//   values  tinyBLAS (16 lanes by position, one tree) for a batch of queries, ggml_vec_dot_f32 (four 16-lane
//           accumulators over 64 positions) for a single one.
// Include with SY_BODY_NS defined.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ops/attention.h"
#include "kernels/ops/lane_math.h"
#include "kernels/quant/quant.h"

namespace sy::kernels::SY_BODY_NS {

// Lane tree of _mm512_reduce_add_ps over the 16 rows lane[0..15] of n values each, into out[n].
inline void reduce_lane_rows(float* lane, int64_t n, float* out) {
  for (int l = 0; l < 8; ++l)
    for (int64_t i = 0; i < n; ++i) lane[l * n + i] = lane[(l + 8) * n + i] + lane[l * n + i];
  for (int l = 0; l < 4; ++l)
    for (int64_t i = 0; i < n; ++i) lane[l * n + i] = lane[(l + 4) * n + i] + lane[l * n + i];
  for (int64_t i = 0; i < n; ++i) out[i] = (lane[i] + lane[2 * n + i]) + (lane[n + i] + lane[3 * n + i]);
}

// scratch: the scores through the 16-group holding the position, then 4 × 16 × head_dim_v accumulators
// (attention() sizes it for the longest position of the batch).
void attention_one(const AttentionArgs& a, VecDotFn dot, int64_t t, int64_t h, float* scratch) {
  constexpr int64_t L = lanes::kLanes;
  const int64_t g = h / (a.n_head / a.n_head_kv);
  const int64_t pos = a.pos0 + t;
  const int64_t first = a.window > 0 ? std::max<int64_t>(0, pos - a.window + 1) : 0;
  const int64_t end = (pos / L + 1) * L;  // through the 16-group holding pos; beyond it everything is masked
  const int64_t dv = a.head_dim_v;
  float* w = scratch;          // [end]
  float* acc = scratch + end;  // [64][dv]
  const float* q = a.q + t * a.q_token_stride + h * a.head_dim_k;

  float max = a.sinks != nullptr ? a.sinks[h] : -INFINITY;
  for (int64_t p = first; p <= pos; ++p) {
    w[p] = dot(a.head_dim_k, a.k + p * a.k_row_stride + g * a.head_dim_k, q) * a.scale;
    max = std::max(max, w[p]);
  }
  double sum = 0.0;
  for (int64_t c = first / L * L; c < end; c += L) {
    float v[L];
    for (int64_t l = 0; l < L; ++l) v[l] = c + l >= first && c + l <= pos ? lanes::exp(w[c + l] - max) : 0.0f;
    std::copy_n(v, L, w + c);
    sum += static_cast<double>(lanes::reduce(v));
  }
  if (a.sinks != nullptr) sum += static_cast<double>(std::exp(a.sinks[h] - max));
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t p = first; p <= pos; ++p) w[p] *= inv;

  // acc[r][l][i]: accumulator r (of 4; only 0 for tinyBLAS), lane l, value i.
  const bool batched = a.n_tokens > 1 && dv % 4 == 0;
  const int64_t n_acc = batched ? 1 : 4;
  std::fill(acc, acc + n_acc * L * dv, 0.0f);
  for (int64_t p = first; p <= pos; ++p) {
    float* lane = acc + ((batched ? 0 : (p % 64) / L) * L + p % L) * dv;
    const float* v = a.v + p * a.v_row_stride + g * dv;
    const float wp = w[p];
    for (int64_t i = 0; i < dv; ++i) lane[i] = std::fma(v[i], wp, lane[i]);
  }
  if (!batched) {
    const int64_t n = L * dv;
    for (int64_t i = 0; i < n; ++i) acc[i] = acc[i] + acc[2 * n + i];
    for (int64_t i = 0; i < n; ++i) acc[n + i] = acc[n + i] + acc[3 * n + i];
    for (int64_t i = 0; i < n; ++i) acc[i] = acc[i] + acc[n + i];
  }
  reduce_lane_rows(acc, dv, a.out + t * a.out_token_stride + h * dv);
}

}  // namespace sy::kernels::SY_BODY_NS
