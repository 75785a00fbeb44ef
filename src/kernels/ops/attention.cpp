#include "kernels/ops/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sy::kernels {

void attention(const AttentionArgs& a, ThreadPool& pool) {
  const int64_t group = a.n_head / a.n_head_kv;  // query heads per kv head
  const int64_t n_kv_max = a.pos0 + a.n_tokens;
  std::vector<std::vector<float>> scratch(static_cast<size_t>(pool.size()), std::vector<float>(static_cast<size_t>(n_kv_max)));
  pool.parallel_for(a.n_tokens * a.n_head, [&](int64_t task, int thread) {
    const int64_t t = task / a.n_head, h = task % a.n_head, g = h / group;
    const int64_t pos = a.pos0 + t;
    const int64_t first = a.window > 0 ? std::max<int64_t>(0, pos - a.window + 1) : 0;
    const float* q = a.q + t * a.q_token_stride + h * a.head_dim_k;
    float* scores = scratch[static_cast<size_t>(thread)].data();
    float max = a.sinks != nullptr ? a.sinks[h] : -INFINITY;
    for (int64_t p = first; p <= pos; ++p) {
      const float* k = a.k + p * a.k_row_stride + g * a.head_dim_k;
      float dot = 0.0f;
      for (int64_t i = 0; i < a.head_dim_k; ++i) dot += q[i] * k[i];
      scores[p] = dot * a.scale;
      max = std::max(max, scores[p]);
    }
    double sum = 0.0;
    for (int64_t p = first; p <= pos; ++p) {
      scores[p] = std::exp(scores[p] - max);
      sum += scores[p];
    }
    // The sink joins the denominator only: it has no value vector.
    if (a.sinks != nullptr) sum += std::exp(a.sinks[h] - max);
    const float inv = static_cast<float>(1.0 / sum);
    float* out = a.out + t * a.out_token_stride + h * a.head_dim_v;
    std::fill(out, out + a.head_dim_v, 0.0f);
    for (int64_t p = first; p <= pos; ++p) {
      const float w = scores[p] * inv;
      const float* v = a.v + p * a.v_row_stride + g * a.head_dim_v;
      for (int64_t i = 0; i < a.head_dim_v; ++i) out[i] += w * v[i];
    }
  });
}

}  // namespace sy::kernels
