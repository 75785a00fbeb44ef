#include "kernels/ops/elementwise.h"

#include <algorithm>
#include <cmath>

#include "kernels/simd/cpu_features.h"

#define SY_BODY_NS baseline
#include "kernels/ops/elementwise_body.h"

namespace sy::kernels {
namespace avx2 {
double softmax_exp(const float* x, float max, float* y, int64_t n);
void swiglu(const float* gate, const float* up, int64_t n, float* out);
}  // namespace avx2

void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * (w != nullptr ? w[i] : 1.0f);
}

double softmax_exp(const float* x, float max, float* y, int64_t n) {
  return cpu_features().avx2 ? avx2::softmax_exp(x, max, y, n) : baseline::softmax_exp(x, max, y, n);
}

void softmax(float* x, int64_t n) {
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, x[i]);
  const float inv = static_cast<float>(1.0 / softmax_exp(x, max, x, n));
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void swiglu(const float* gate, const float* up, int64_t n, float* out) {
  if (cpu_features().avx2)
    avx2::swiglu(gate, up, n, out);
  else
    baseline::swiglu(gate, up, n, out);
}

void swiglu_oai(const float* gate, const float* up, int64_t n, float* out) {
  constexpr float kAlpha = 1.702f, kLimit = 7.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float g = std::min(gate[i], kLimit);
    const float u = std::clamp(up[i], -kLimit, kLimit);
    out[i] = g / (1.0f + std::exp(kAlpha * -g)) * (u + 1.0f);
  }
}

void add_inplace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace sy::kernels
