// Q4_K · Q8_K for one activation row (decode) with AVX-512 VNNI. Decoding a token streams every weight once,
// so the cost per super-block is what counts, and the activation-side shuffles of the multi-row kernel
// (q4_k_avx512.cpp) are pure overhead here. Each 32-byte group of quants holds sub-block 2g in its low
// nibbles and 2g+1 in its high nibbles; broadcasting it to both halves of a register and shifting only the
// upper half by 4 puts the 64 codes in the activations' own order, so activations load straight from memory.
// The minimums are accumulated in a vector and summed once per row instead of once per super-block.
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {

float dot_q4_k_q8_k_avx512vnni(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i upper_by_4 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
  // Scale selector for group g: sub-block 2g in int16 lanes 0-15, 2g+1 in lanes 16-31.
  __m512i pick[4];
  for (int g = 0; g < 4; ++g)
    pick[g] = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(2 * g)),
                                 _mm256_set1_epi16(static_cast<int16_t>(2 * g + 1)), 1);
  __m512 acc = _mm512_setzero_ps();
  __m256 acc_min = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    prefetch_stream(x + i, sizeof(BlockQ4_K));
    uint32_t packed[4];
    scale_min_k4_all(x[i].scales, packed);
    const __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed))));
    const __m128i m8 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed + 2)));
    // bsums holds 16 sums of 16 activations; sub-block j's minimum pairs with bsums 2j and 2j+1.
    const __m256i mins16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
    const int8_t* qa = y[i].qs;
    __m512i sumi = _mm512_setzero_si512();
    for (int g = 0; g < 4; ++g) {
      const __m512i both = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * g)));
      const __m512i codes = _mm512_and_si512(_mm512_srlv_epi16(both, upper_by_4), low4);
      const __m512i p = _mm512_maddubs_epi16(codes, _mm512_loadu_si512(qa + 64 * g));
      sumi = _mm512_dpwssd_epi32(sumi, p, _mm512_permutexvar_epi16(pick[g], sc16));
    }
    const float dy = y[i].d;
    acc = _mm512_fmadd_ps(_mm512_set1_ps(f16_scalar(x[i].d) * dy), _mm512_cvtepi32_ps(sumi), acc);
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums));
    acc_min = _mm256_fmadd_ps(_mm256_set1_ps(f16_scalar(x[i].dmin) * dy), _mm256_cvtepi32_ps(_mm256_madd_epi16(bsums, mins16)),
                              acc_min);
  }
  return _mm512_reduce_add_ps(acc) - hsum(acc_min);
}

}  // namespace sy::kernels
