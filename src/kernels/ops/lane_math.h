// llama.cpp's vectorised float operations, one lane at a time. Its reference results come from the AVX-512
// build, whose softmax, SiLU and F32 products work in 16 float lanes; these functions do per lane exactly what
// those instructions do (std::fma is one rounding, as vfmadd), so a loop over lanes gives its results bit for
// bit on any CPU. Files compiled for FMA (*_avx2.cpp) turn std::fma into the instruction; elsewhere it is the
// (slower, equally exact) library call. Keep expressions free of a·b + c: the compiler may fuse them in one
// build and not the other.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace sy::kernels::lanes {

inline constexpr int kLanes = 16;

// ggml_v_expf (AVX-512): range reduction, a degree-5 polynomial, then scalef(j, n) = j·2ⁿ, here as two exact
// power-of-two steps that round once, as scalef does.
inline float exp(float x) {
  const float r = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, r);
  const float n = z - r;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  if (std::fabs(n) > 192.0f) return n > 0.0f ? INFINITY : 0.0f;
  const float u = b * b;
  const float j =
      std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
               std::fma(0x1.ffffecp-1f, b, 1.0f));
  const int ni = static_cast<int>(n);
  const int n1 = ni >> 1, n2 = ni - n1;  // both within the normal exponent range
  const float p1 = std::bit_cast<float>(static_cast<uint32_t>(n1 + 127) << 23);
  const float p2 = std::bit_cast<float>(static_cast<uint32_t>(n2 + 127) << 23);
  return j * p1 * p2;
}

// ggml_v_silu: x / (1 + exp(0 − x)).
inline float silu(float x) { return x / (1.0f + exp(0.0f - x)); }

// _mm512_reduce_add_ps: lanes 8..15 onto 0..7, then 4..7 onto 0..3, then (0+2) + (1+3).
inline float reduce(const float* v) {
  float t8[8], t4[4];
  for (int i = 0; i < 8; ++i) t8[i] = v[i + 8] + v[i];
  for (int i = 0; i < 4; ++i) t4[i] = t8[i + 4] + t8[i];
  return (t4[0] + t4[2]) + (t4[1] + t4[3]);
}

}  // namespace sy::kernels::lanes
