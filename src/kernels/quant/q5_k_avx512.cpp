// Q5_K · Q8_K with AVX-512 (BW): two chunks per register; the fifth bits come from a byte bit-test mask.
#include "kernels/quant/blocks.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {
__m512i set_2x16_epi16(int lo, int hi) {
  return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(lo)), _mm256_set1_epi16(static_cast<int16_t>(hi)),
                            1);
}
__m512i set_2x32_epi8(int lo, int hi) {
  return _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(lo)), _mm256_set1_epi8(static_cast<char>(hi)), 1);
}
}  // namespace

float dot_q5_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i sixteen = _mm512_set1_epi8(0x10);
  __m512 acc = _mm512_setzero_ps();
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
    const __m512i qh = load_2x256(x[i].qh, x[i].qh);
    __m512i sumi = _mm512_setzero_si512();
    for (int p = 0; p < 2; ++p) {  // chunks c = 2p (low 256 bits) and 2p+1 (high 256 bits)
      const __m512i q = _mm512_loadu_si512(x[i].qs + 64 * p);
      const int8_t* qa = y[i].qs + 128 * p;
      const __mmask64 h_lo = _mm512_test_epi8_mask(qh, set_2x32_epi8(1 << (4 * p), 1 << (4 * p + 2)));
      const __mmask64 h_hi = _mm512_test_epi8_mask(qh, set_2x32_epi8(1 << (4 * p + 1), 1 << (4 * p + 3)));
      const __m512i lo = _mm512_or_si512(_mm512_and_si512(q, low4), _mm512_maskz_mov_epi8(h_lo, sixteen));
      const __m512i hi =
          _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(q, 4), low4), _mm512_maskz_mov_epi8(h_hi, sixteen));
      const __m512i a_lo = load_2x256(qa, qa + 64);
      const __m512i a_hi = load_2x256(qa + 32, qa + 96);
      sumi = _mm512_add_epi32(
          sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(lo, a_lo), set_2x16_epi16(sc[4 * p], sc[4 * p + 2])));
      sumi = _mm512_add_epi32(
          sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(hi, a_hi), set_2x16_epi16(sc[4 * p + 1], sc[4 * p + 3])));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(f16_scalar(x[i].d) * y[i].d), _mm512_cvtepi32_ps(sumi), acc);
    mins += f16_scalar(x[i].dmin) * y[i].d * static_cast<float>(min_sum);
  }
  return _mm512_reduce_add_ps(acc) - mins;
}

}  // namespace sy::kernels
