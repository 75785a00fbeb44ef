// Q4_K · Q8_K with AVX-512 (BW): as the AVX2 version, two 64-element chunks per 512-bit register. The loop is
// written for kRows activation rows at once, so prefill decodes each super-block once for several tokens.
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {

// Lane selectors for the scales: pick k spreads sub-block scale s0 over int16 lanes 0-15 and s1 over 16-31,
// with (s0, s1) = (0, 2), (1, 3), (4, 6), (5, 7) for the low/high nibbles of chunk pairs 0 and 1.
__m512i pick(int s0, int s1) {
  return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(s0)), _mm256_set1_epi16(static_cast<int16_t>(s1)),
                            1);
}

template <int kRows>
void dot_rows(int64_t n, const void* w, const void* a, size_t a_stride, float* out) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y[kRows];
  for (int j = 0; j < kRows; ++j)
    y[j] = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a) + j * a_stride);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i kPick[4] = {pick(0, 2), pick(1, 3), pick(4, 6), pick(5, 7)};
  __m512 acc[kRows];
  float mins[kRows] = {};
  for (int j = 0; j < kRows; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    uint32_t packed[4];
    scale_min_k4_all(x[i].scales, packed);
    const __m128i sc8 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed)));
    const __m128i m8 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed + 2)));
    const __m256i mins16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
    const __m512i sc16 = _mm512_castsi128_si512(sc8);
    // Chunk pair 0 holds chunks 0 (low 256 bits) and 1, pair 1 chunks 2 and 3: low nibbles of pair p are
    // sub-blocks 4p and 4p+2, high nibbles 4p+1 and 4p+3.
    const __m512i q0 = _mm512_loadu_si512(x[i].qs), q1 = _mm512_loadu_si512(x[i].qs + 64);
    const __m512i lo0 = _mm512_and_si512(q0, low4), hi0 = _mm512_and_si512(_mm512_srli_epi16(q0, 4), low4);
    const __m512i lo1 = _mm512_and_si512(q1, low4), hi1 = _mm512_and_si512(_mm512_srli_epi16(q1, 4), low4);
    const __m512i sc_lo0 = _mm512_permutexvar_epi16(kPick[0], sc16), sc_hi0 = _mm512_permutexvar_epi16(kPick[1], sc16);
    const __m512i sc_lo1 = _mm512_permutexvar_epi16(kPick[2], sc16), sc_hi1 = _mm512_permutexvar_epi16(kPick[3], sc16);
    const float d = f16_scalar(x[i].d), dmin = f16_scalar(x[i].dmin);
    for (int j = 0; j < kRows; ++j) {
      const BlockQ8_K& b = y[j][i];
      const int8_t* qa = b.qs;
      const __m512i p0 = _mm512_madd_epi16(_mm512_maddubs_epi16(lo0, load_2x256(qa, qa + 64)), sc_lo0);
      const __m512i p1 = _mm512_madd_epi16(_mm512_maddubs_epi16(hi0, load_2x256(qa + 32, qa + 96)), sc_hi0);
      const __m512i p2 = _mm512_madd_epi16(_mm512_maddubs_epi16(lo1, load_2x256(qa + 128, qa + 192)), sc_lo1);
      const __m512i p3 = _mm512_madd_epi16(_mm512_maddubs_epi16(hi1, load_2x256(qa + 160, qa + 224)), sc_hi1);
      const __m512i sumi = _mm512_add_epi32(_mm512_add_epi32(p0, p1), _mm512_add_epi32(p2, p3));
      const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.bsums));
      acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(d * b.d), _mm512_cvtepi32_ps(sumi), acc[j]);
      mins[j] += dmin * b.d * static_cast<float>(hsum_i32(_mm256_madd_epi16(bsums, mins16)));
    }
  }
  for (int j = 0; j < kRows; ++j) out[j] = _mm512_reduce_add_ps(acc[j]) - mins[j];
}

}  // namespace

float dot_q4_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  float out;
  dot_rows<1>(n, w, a, 0, &out);
  return out;
}

void dot_q4_k_q8_k_multi_avx512(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  with_row_count(n_act, [&](auto rows) { dot_rows<rows.value>(n, w, a, a_stride, out); });
}

}  // namespace sy::kernels
