// Row-wise and element-wise operations of the forward pass. Scalar, clear, and rounded like ggml's CPU ops
// (sums of squares and softmax denominators accumulate in double).
#pragma once

#include <cstdint>

namespace sy::kernels {

// y[i] = w[i] · x[i] / sqrt(mean(x²) + eps), for one row of n values. w may be nullptr (no weight). x == y allowed.
void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y);

// In place softmax over n values.
void softmax(float* x, int64_t n);

// out[i] = silu(gate[i]) · up[i]. out may alias gate.
void swiglu(const float* gate, const float* up, int64_t n, float* out);

// gpt-oss's clamped SwiGLU: g' = min(g, 7), u' = clamp(u, -7, 7), out = g'·σ(1.702·g')·(u' + 1).
void swiglu_oai(const float* gate, const float* up, int64_t n, float* out);

inline float sigmoid(float x) { return 1.0f / (1.0f + __builtin_expf(-x)); }

// y[i] += x[i]
void add_inplace(float* y, const float* x, int64_t n);

}  // namespace sy::kernels
