#include "kernels/ops/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sy::kernels {
namespace {

// The dimension index at which the rotation of `n_rot_turns` full turns over the original context happens.
float yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rot_turns, float base) {
  return static_cast<float>(n_dims) *
         std::log(static_cast<float>(n_ctx_orig) / (n_rot_turns * 2.0f * std::numbers::pi_v<float>)) /
         (2.0f * std::log(base));
}

float yarn_ramp(float low, float high, int i0) {
  const float y = (static_cast<float>(i0 / 2) - low) / std::max(0.001f, high - low);
  return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

}  // namespace

void rope_cos_sin(const RopeParams& p, int64_t pos, float* out) {
  const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_rot));
  float corr_lo = 0.0f, corr_hi = 0.0f;
  if (p.ext_factor != 0.0f) {
    const float start = std::floor(yarn_corr_dim(p.n_rot, p.n_ctx_orig, p.beta_fast, p.freq_base));
    const float end = std::ceil(yarn_corr_dim(p.n_rot, p.n_ctx_orig, p.beta_slow, p.freq_base));
    corr_lo = std::max(0.0f, start);
    corr_hi = std::min(static_cast<float>(p.n_rot - 1), end);
  }
  // θ is advanced by repeated multiplication, as ggml does, to follow its rounding.
  float theta_extrap = static_cast<float>(pos);
  for (int i0 = 0; i0 < p.n_rot; i0 += 2) {
    const float theta_interp = p.freq_scale * theta_extrap;
    float theta = theta_interp;
    float mscale = p.attn_factor;
    if (p.ext_factor != 0.0f) {
      const float ramp_mix = yarn_ramp(corr_lo, corr_hi, i0) * p.ext_factor;
      theta = std::fma(theta_interp, 1.0f - ramp_mix, theta_extrap * ramp_mix);
      mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
    }
    out[i0] = std::cos(theta) * mscale;
    out[i0 + 1] = std::sin(theta) * mscale;
    theta_extrap *= theta_scale;
  }
}

void rope_apply(const RopeParams& p, const float* cos_sin, float* x, int64_t n_heads, int64_t head_stride) {
  const int half = p.n_rot / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_stride;
    for (int i = 0; i < half; ++i) {
      const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
      // NORM pairs adjacent values, NEOX pairs the two halves of the rotated span.
      float* a = p.layout == RopeLayout::kNorm ? v + 2 * i : v + i;
      float* b = p.layout == RopeLayout::kNorm ? v + 2 * i + 1 : v + i + half;
      const float x0 = *a, x1 = *b;
      *a = std::fma(x0, c, -(x1 * s));
      *b = std::fma(x0, s, x1 * c);
    }
  }
}

}  // namespace sy::kernels
