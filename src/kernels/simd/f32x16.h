// Sixteen float lanes in two AVX2 registers. llama.cpp's reference results come from its AVX-512 build, whose
// float kernels accumulate in 16 lanes and reduce them with _mm512_reduce_add_ps; matching those results bit for
// bit on an AVX2 machine needs the same lanes, the same operations per lane and the same reduction tree.
// Include only from files compiled for AVX2 (*_avx2.cpp).
#pragma once

#include <immintrin.h>

#include "kernels/simd/x86.h"

namespace sy::kernels {

struct F32x16 {
  __m256 lo, hi;  // lanes 0..7, 8..15
};

inline F32x16 f32x16_zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
// a·b + c per lane, one rounding.
inline F32x16 f32x16_fma(F32x16 a, F32x16 b, F32x16 c) {
  return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
}
inline F32x16 f32x16_add(F32x16 a, F32x16 b) { return {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)}; }

// _mm512_reduce_add_ps's tree: upper eight lanes onto the lower eight, then four, two, one.
inline float f32x16_reduce(F32x16 v) { return hsum(_mm256_add_ps(v.hi, v.lo)); }

}  // namespace sy::kernels
