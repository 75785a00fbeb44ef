// Q6_K · Q8_K with AVX-512 (BW): both 128-element halves at once (low 256 bits: half 0, high: half 1).
#include "kernels/quant/blocks.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {

float dot_q6_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i bits45 = _mm512_set1_epi8(0x30);
  // For the 32 int16 lanes of element quad k: groups 2k (lanes 0-7), 2k+1, 8+2k, 9+2k (lanes 24-31).
  __m512i scale_index[4];
  for (int k = 0; k < 4; ++k) {
    alignas(64) int16_t idx[32];
    for (int l = 0; l < 32; ++l) idx[l] = static_cast<int16_t>((l / 16) * 8 + 2 * k + (l / 8) % 2);
    scale_index[k] = _mm512_load_si512(idx);
  }
  __m512 acc = _mm512_setzero_ps();
  float offsets = 0.f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const __m256i sc16_256 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales)));
    const __m512i sc16 = _mm512_castsi256_si512(sc16_256);
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums));
    const int offset_sum = hsum_i32(_mm256_madd_epi16(bsums, sc16_256));
    const __m512i ql0 = load_2x256(x[i].ql, x[i].ql + 64);
    const __m512i ql1 = load_2x256(x[i].ql + 32, x[i].ql + 96);
    const __m512i qh = _mm512_loadu_si512(x[i].qh);
    const __m512i q[4] = {
        _mm512_or_si512(_mm512_and_si512(ql0, low4), _mm512_and_si512(_mm512_slli_epi16(qh, 4), bits45)),
        _mm512_or_si512(_mm512_and_si512(ql1, low4), _mm512_and_si512(_mm512_slli_epi16(qh, 2), bits45)),
        _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql0, 4), low4), _mm512_and_si512(qh, bits45)),
        _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql1, 4), low4),
                        _mm512_and_si512(_mm512_srli_epi16(qh, 2), bits45))};
    __m512i sumi = _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k) {
      const __m512i qa = load_2x256(y[i].qs + 32 * k, y[i].qs + 128 + 32 * k);
      const __m512i scale = _mm512_permutexvar_epi16(scale_index[k], sc16);
      sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(q[k], qa), scale));
    }
    const float d = f16_scalar(x[i].d) * y[i].d;
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
    offsets += 32.f * d * static_cast<float>(offset_sum);
  }
  return _mm512_reduce_add_ps(acc) - offsets;
}

}  // namespace sy::kernels
