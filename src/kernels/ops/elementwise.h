// Row-wise and element-wise operations of the forward pass, rounded like ggml's CPU ops: sums of squares and
// softmax denominators accumulate in double, and exp/SiLU over whole groups of 16 values follow its AVX-512
// vector code (lane_math.h), the rest libm's expf, as ggml does.
#pragma once

#include <cstdint>

namespace sy::kernels {

// y[i] = w[i] · x[i] / sqrt(mean(x²) + eps), for one row of n values. w may be nullptr (no weight). x == y allowed.
void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y);

// ggml_vec_soft_max_f32: y[i] = exp(x[i] − max) and returns Σ y[i] (in double). y may alias x.
double softmax_exp(const float* x, float max, float* y, int64_t n);

// In place softmax over n values (ggml_soft_max: the sum inverted in double, then one multiply per value).
void softmax(float* x, int64_t n);

// out[i] = silu(gate[i]) · up[i] over one row of n values (groups of 16 count from the row's start, as in
// ggml's per-row loop). out may alias gate.
void swiglu(const float* gate, const float* up, int64_t n, float* out);

// gpt-oss's clamped SwiGLU: g' = min(g, 7), u' = clamp(u, -7, 7), out = g'·σ(1.702·g')·(u' + 1).
void swiglu_oai(const float* gate, const float* up, int64_t n, float* out);

inline float sigmoid(float x) { return 1.0f / (1.0f + __builtin_expf(-x)); }

// y[i] += x[i]
void add_inplace(float* y, const float* x, int64_t n);

}  // namespace sy::kernels
