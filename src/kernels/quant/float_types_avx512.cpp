// F32, F16 and BF16 dot products with AVX-512: 16 lanes, 4 accumulators, masked loads for the tail.
#include <immintrin.h>

#include <cstdint>

#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

struct LoadF32 {
  static __m512 load(const void* p, int64_t i, __mmask16 m = 0xffff) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(p) + i);
  }
};
struct LoadF16 {
  static __m512 load(const void* p, int64_t i, __mmask16 m = 0xffff) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i));
  }
};
struct LoadBF16 {
  static __m512 load(const void* p, int64_t i, __mmask16 m = 0xffff) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

template <typename Load>
float dot(int64_t n, const void* w, const void* a) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int r = 0; r < 4; ++r) acc[r] = _mm512_fmadd_ps(Load::load(w, i + 16 * r), Load::load(a, i + 16 * r), acc[r]);
  for (; i + 16 <= n; i += 16) acc[0] = _mm512_fmadd_ps(Load::load(w, i), Load::load(a, i), acc[0]);
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    acc[1] = _mm512_fmadd_ps(Load::load(w, i, m), Load::load(a, i, m), acc[1]);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

}  // namespace

float dot_f32_avx512(int64_t n, const void* w, const void* a) { return dot<LoadF32>(n, w, a); }
float dot_f16_avx512(int64_t n, const void* w, const void* a) { return dot<LoadF16>(n, w, a); }
float dot_bf16_avx512(int64_t n, const void* w, const void* a) { return dot<LoadBF16>(n, w, a); }

}  // namespace sy::kernels
