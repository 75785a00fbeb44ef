// Q5_K · Q8_K with AVX2: Q4_K's loop plus the fifth bit of each code from qh (bit 2c / 2c+1 for chunk c).
#include "kernels/quant/blocks.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {

float dot_q5_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i bit0 = _mm256_set1_epi8(0x01);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    uint32_t packed[4];
    scale_min_k4_all(x[i].scales, packed);
    const auto* sc = reinterpret_cast<const uint8_t*>(packed);  // sc[j]: scale of sub-block j
    // bsums are per 16 elements: each sub-block's min multiplies two of them.
    const __m128i m8 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed + 2)));
    const __m256i mins16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums));
    const int min_sum = hsum_i32(_mm256_madd_epi16(bsums, mins16));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh));
    __m256i sumi = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * c));
      // 16-bit shifts move bits between the two bytes of a lane, but masking with 0x01 keeps only each byte's
      // own bit 2c (resp. 2c+1).
      const __m256i h_lo = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), bit0), 4);
      const __m256i h_hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), bit0), 4);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, low4), h_lo);
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), h_hi);
      const __m256i a_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * c));
      const __m256i a_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * c + 32));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a_lo), _mm256_set1_epi16(sc[2 * c])));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a_hi), _mm256_set1_epi16(sc[2 * c + 1])));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(f16_scalar(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    mins += f16_scalar(x[i].dmin) * y[i].d * static_cast<float>(min_sum);
  }
  return hsum(acc) - mins;
}

}  // namespace sy::kernels
