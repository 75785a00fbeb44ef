// Q6_K · Q8_K with AVX2. The unsigned 6-bit codes q multiply the activations directly (63·127·2 fits int16);
// the −32 offset is applied per super-block as −32·Σ_g sc_g·bsums[g]. Integer sums are exact. The loop
// is written for kRows activation rows at once: prefill decodes each super-block once for several tokens.
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {

// Shuffle control: int16 lane k of the low 128-bit half over that half, lane k + 1 over the high half.
__m256i int16_lane_pair(int k) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>((2 * k + 2) | ((2 * k + 3) << 8))),
                          _mm_set1_epi16(static_cast<int16_t>((2 * k) | ((2 * k + 1) << 8))));
}

template <int kRows>
void dot_rows(int64_t n, const void* w, const void* a, size_t a_stride, float* out) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y[kRows];
  for (int j = 0; j < kRows; ++j)
    y[j] = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a) + j * a_stride);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i bits45 = _mm256_set1_epi8(0x30);
  __m256 acc[kRows];
  for (int j = 0; j < kRows; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    prefetch_stream(x + i, sizeof(BlockQ6_K));  // decode streams the weights, for one sequence or several
    const int8_t* sc = x[i].scales;
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
    // Scales 0-7 and 8-15 as int16 in both 128-bit halves, picked per pair of groups by one shuffle.
    const __m256i sc_half[2] = {_mm256_broadcastsi128_si256(_mm256_castsi256_si128(sc16)),
                                _mm256_broadcastsi128_si256(_mm256_extracti128_si256(sc16, 1))};
    __m256i sumi[kRows];
    for (int j = 0; j < kRows; ++j) sumi[j] = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].ql + 64 * h));
      const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh + 32 * h));
      // 16-bit shifts spill bits into the neighbouring byte; the masks keep each byte's own bits.
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45)),
          _mm256_or_si256(_mm256_and_si256(ql1, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4), _mm256_and_si256(qh, bits45)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                          _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45))};
      for (int k = 0; k < 4; ++k) {
        // The 32 elements are groups 8h + 2k and 8h + 2k + 1.
        const __m256i scale = _mm256_shuffle_epi8(sc_half[h], int16_lane_pair(2 * k));
        for (int j = 0; j < kRows; ++j) {
          const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[j][i].qs + 128 * h + 32 * k));
          sumi[j] = _mm256_add_epi32(sumi[j], _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], qa), scale));
        }
      }
    }
    const float dw = f16_scalar(x[i].d);
    for (int j = 0; j < kRows; ++j) {
      const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[j][i].bsums));
      // The −32 offset of 32-element group k comes off int32 lane k (madd pairs the 16-element groups 2k, 2k+1),
      // and each lane is scaled into its own float accumulator: llama.cpp's AVX2 order, so results match it.
      const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16), 5);
      const float d = dw * y[j][i].d;
      acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[j], offset)), acc[j]);
    }
  }
  for (int j = 0; j < kRows; ++j) out[j] = hsum(acc[j]);
}

}  // namespace

float dot_q6_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  float out;
  dot_rows<1>(n, w, a, 0, &out);
  return out;
}

void dot_q6_k_q8_k_multi_avx2(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  in_row_passes<kAvx2RowsPerPass>(n_act, a, a_stride, out, [&](auto rows, const void* pass_rows, float* pass_out) {
    dot_rows<rows.value>(n, w, pass_rows, a_stride, pass_out);
  });
}

}  // namespace sy::kernels
