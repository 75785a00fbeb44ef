// Q5_K · Q8_K with AVX2: Q4_K's loop plus the fifth bit of each code from qh (bit 2c / 2c+1 for chunk c). The
// loop is written for kRows activation rows at once: prefill decodes each super-block once for several tokens.
// Float order as llama.cpp's AVX2 vec_dot (it does not repack Q5_K on x86): int32 lane k of each block's sum
// scaled into float accumulator k; the minimums, negated, in one scalar fused multiply-add per block.
#include <cmath>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {

template <int kRows>
void dot_rows(int64_t n, const void* w, const void* a, size_t a_stride, float* out) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const BlockQ8_K* y[kRows];
  for (int j = 0; j < kRows; ++j)
    y[j] = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a) + j * a_stride);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i bit0 = _mm256_set1_epi8(0x01);
  __m256 acc[kRows];
  float mins[kRows] = {};
  for (int j = 0; j < kRows; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    if constexpr (kRows == 1) prefetch_stream(x + i, sizeof(BlockQ5_K));  // decode streams the weights
    uint32_t packed[4];
    scale_min_k4_all(x[i].scales, packed);
    const __m256i scales =
        _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed))));
    // bsums are per 16 elements: each sub-block's min multiplies two of them.
    const __m128i m8 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed + 2)));
    const __m256i mins16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh));
    __m256i sumi[kRows];
    for (int j = 0; j < kRows; ++j) sumi[j] = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * c));
      // 16-bit shifts move bits between the two bytes of a lane, but masking with 0x01 keeps only each byte's
      // own bit 2c (resp. 2c+1).
      const __m256i h_lo = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), bit0), 4);
      const __m256i h_hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), bit0), 4);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, low4), h_lo);
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), h_hi);
      const __m256i sc_lo = _mm256_shuffle_epi8(scales, int16_lane(2 * c));
      const __m256i sc_hi = _mm256_shuffle_epi8(scales, int16_lane(2 * c + 1));
      for (int j = 0; j < kRows; ++j) {
        const int8_t* qa = y[j][i].qs + 64 * c;
        const __m256i p_lo = _mm256_madd_epi16(
            _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qa))), sc_lo);
        const __m256i p_hi = _mm256_madd_epi16(
            _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qa + 32))), sc_hi);
        sumi[j] = _mm256_add_epi32(sumi[j], _mm256_add_epi32(p_lo, p_hi));
      }
    }
    const float d = f16_scalar(x[i].d), dmin = f16_scalar(x[i].dmin);
    for (int j = 0; j < kRows; ++j) {
      const BlockQ8_K& b = y[j][i];
      const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.bsums));
      acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(b.d * d), _mm256_cvtepi32_ps(sumi[j]), acc[j]);
      mins[j] = std::fma(-b.d * dmin, static_cast<float>(hsum_i32(_mm256_madd_epi16(bsums, mins16))), mins[j]);
    }
  }
  for (int j = 0; j < kRows; ++j) out[j] = hsum(acc[j]) + mins[j];
}

}  // namespace

float dot_q5_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  float out;
  dot_rows<1>(n, w, a, 0, &out);
  return out;
}

void dot_q5_k_q8_k_multi_avx2(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  in_row_passes<kAvx2RowsPerPass>(n_act, a, a_stride, out, [&](auto rows, const void* pass_rows, float* pass_out) {
    dot_rows<rows.value>(n, w, pass_rows, a_stride, pass_out);
  });
}

}  // namespace sy::kernels
