// Rotary position embedding as ggml computes it (NORM and NEOX layouts, optional YaRN), so positions rotate
// with the reference's rounding. Scalar; one token's heads share a cos/sin table.
#pragma once

#include <cstdint>
#include <vector>

namespace sy::kernels {

// Which dimensions a rotation pairs: adjacent (x[2i], x[2i+1]) or halves (x[i], x[i + n_rot/2]).
enum class RopeLayout { kNorm, kNeox };

struct RopeParams {
  RopeLayout layout = RopeLayout::kNeox;
  int32_t n_rot = 0;  // rotated dimensions at the start of each head (the rest pass through)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;  // 1 / scaling factor
  // YaRN: ext_factor 0 disables it. attn_factor multiplies cos/sin; ggml further multiplies them by
  // 1 + 0.1·ln(1/freq_scale) whenever ext_factor != 0.
  float ext_factor = 0.0f;
  float attn_factor = 1.0f;
  int32_t n_ctx_orig = 0;
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
};

// cos/sin for one position: out[2i] = cos θ_i, out[2i+1] = sin θ_i for i < n_rot/2.
void rope_cos_sin(const RopeParams& p, int64_t pos, float* out);

// Rotates the first n_rot values of each of n_heads heads in place; head h starts at x + h·head_stride.
void rope_apply(const RopeParams& p, const float* cos_sin, float* x, int64_t n_heads, int64_t head_stride);

}  // namespace sy::kernels
