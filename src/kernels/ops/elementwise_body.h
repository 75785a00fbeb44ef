// The bodies of the softmax and SwiGLU ops, compiled twice: in elementwise.cpp for any x86-64 and in
// elementwise_avx2.cpp with FMA, where lanes::exp's std::fma calls become single instructions. Both builds give
// the same bits (lane_math.h); elementwise.cpp picks one at run time. Include with SY_BODY_NS defined.
#include <algorithm>
#include <cmath>

#include "kernels/ops/lane_math.h"

namespace sy::kernels::SY_BODY_NS {

double softmax_exp(const float* x, float max, float* y, int64_t n) {
  double sum = 0.0;
  int64_t i = 0;
  for (; i + lanes::kLanes <= n; i += lanes::kLanes) {
    float v[lanes::kLanes];
    for (int l = 0; l < lanes::kLanes; ++l) v[l] = lanes::exp(x[i + l] - max);
    std::copy_n(v, lanes::kLanes, y + i);
    sum += static_cast<double>(lanes::reduce(v));
  }
  for (; i < n; ++i) {
    const float v = std::exp(x[i] - max);
    sum += static_cast<double>(v);
    y[i] = v;
  }
  return sum;
}

void swiglu(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + lanes::kLanes <= n; i += lanes::kLanes)
    for (int l = 0; l < lanes::kLanes; ++l) out[i + l] = lanes::silu(gate[i + l]) * up[i + l];
  for (; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

}  // namespace sy::kernels::SY_BODY_NS
