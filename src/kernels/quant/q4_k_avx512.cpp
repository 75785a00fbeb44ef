// Q4_K · Q8_K with AVX-512 (BW): as the AVX2 version, two 64-element chunks per 512-bit register.
#include "kernels/quant/blocks.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {
__m512i set_2x16_epi16(int lo, int hi) {
  return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(lo)), _mm256_set1_epi16(static_cast<int16_t>(hi)), 1);
}
}  // namespace

float dot_q4_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  __m512 acc = _mm512_setzero_ps();
  float mins = 0.f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    alignas(32) int16_t m16[16];
    int sc[8];
    for (int j = 0; j < 8; ++j) {
      uint8_t s, m;
      scale_min_k4(j, x[i].scales, s, m);
      sc[j] = s;
      m16[2 * j] = m16[2 * j + 1] = m;
    }
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums));
    const int min_sum = hsum_i32(_mm256_madd_epi16(bsums, _mm256_load_si256(reinterpret_cast<const __m256i*>(m16))));
    __m512i sumi = _mm512_setzero_si512();
    for (int p = 0; p < 2; ++p) {  // chunks 2p and 2p+1
      const uint8_t* qs = x[i].qs + 64 * p;
      const int8_t* qa = y[i].qs + 128 * p;
      const __m512i q = _mm512_loadu_si512(qs);
      const __m512i lo = _mm512_and_si512(q, low4);                         // sub-blocks 4p, 4p+2
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), low4);  // sub-blocks 4p+1, 4p+3
      const __m512i a_lo = load_2x256(qa, qa + 64);
      const __m512i a_hi = load_2x256(qa + 32, qa + 96);
      sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(lo, a_lo), set_2x16_epi16(sc[4 * p], sc[4 * p + 2])));
      sumi = _mm512_add_epi32(sumi,
                              _mm512_madd_epi16(_mm512_maddubs_epi16(hi, a_hi), set_2x16_epi16(sc[4 * p + 1], sc[4 * p + 3])));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(f16_scalar(x[i].d) * y[i].d), _mm512_cvtepi32_ps(sumi), acc);
    mins += f16_scalar(x[i].dmin) * y[i].d * static_cast<float>(min_sum);
  }
  return _mm512_reduce_add_ps(acc) - mins;
}

}  // namespace sy::kernels
