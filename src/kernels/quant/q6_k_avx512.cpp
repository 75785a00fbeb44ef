// Q6_K · Q8_K with AVX-512 (BW): both 128-element halves at once (low 256 bits: half 0, high: half 1). Written
// for kRows activation rows at once, so prefill decodes each super-block once for several tokens.
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {

template <int kRows>
void dot_rows(int64_t n, const void* w, const void* a, size_t a_stride, float* out) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y[kRows];
  for (int j = 0; j < kRows; ++j)
    y[j] = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a) + j * a_stride);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i bits45 = _mm512_set1_epi8(0x30);
  // For the 32 int16 lanes of element quad k: groups 2k (lanes 0-7), 2k+1, 8+2k, 9+2k (lanes 24-31).
  __m512i scale_index[4];
  for (int k = 0; k < 4; ++k) {
    alignas(64) int16_t idx[32];
    for (int l = 0; l < 32; ++l) idx[l] = static_cast<int16_t>((l / 16) * 8 + 2 * k + (l / 8) % 2);
    scale_index[k] = _mm512_load_si512(idx);
  }
  __m512 acc[kRows];
  float offsets[kRows] = {};
  for (int j = 0; j < kRows; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    if constexpr (kRows == 1) prefetch_stream(x + i, sizeof(BlockQ6_K));
    const __m256i sc16_256 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales)));
    const __m512i sc16 = _mm512_castsi256_si512(sc16_256);
    const __m512i ql0 = load_2x256(x[i].ql, x[i].ql + 64);
    const __m512i ql1 = load_2x256(x[i].ql + 32, x[i].ql + 96);
    const __m512i qh = _mm512_loadu_si512(x[i].qh);
    // Unsigned codes 0..63 (the −32 is applied once per super-block through bsums). 16-bit shifts spill bits
    // into the neighbouring byte; the masks keep each byte's own bits.
    const __m512i q[4] = {
        _mm512_or_si512(_mm512_and_si512(ql0, low4), _mm512_and_si512(_mm512_slli_epi16(qh, 4), bits45)),
        _mm512_or_si512(_mm512_and_si512(ql1, low4), _mm512_and_si512(_mm512_slli_epi16(qh, 2), bits45)),
        _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql0, 4), low4), _mm512_and_si512(qh, bits45)),
        _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql1, 4), low4),
                        _mm512_and_si512(_mm512_srli_epi16(qh, 2), bits45))};
    __m512i scale[4];
    for (int k = 0; k < 4; ++k) scale[k] = _mm512_permutexvar_epi16(scale_index[k], sc16);
    const float d = f16_scalar(x[i].d);
    for (int j = 0; j < kRows; ++j) {
      const BlockQ8_K& b = y[j][i];
      __m512i sumi = _mm512_setzero_si512();
      for (int k = 0; k < 4; ++k) {
        const __m512i qa = load_2x256(b.qs + 32 * k, b.qs + 128 + 32 * k);
        sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(q[k], qa), scale[k]));
      }
      const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.bsums));
      acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(d * b.d), _mm512_cvtepi32_ps(sumi), acc[j]);
      offsets[j] += 32.f * d * b.d * static_cast<float>(hsum_i32(_mm256_madd_epi16(bsums, sc16_256)));
    }
  }
  for (int j = 0; j < kRows; ++j) out[j] = _mm512_reduce_add_ps(acc[j]) - offsets[j];
}

}  // namespace

float dot_q6_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  float out;
  dot_rows<1>(n, w, a, 0, &out);
  return out;
}

void dot_q6_k_q8_k_multi_avx512(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  with_row_count(n_act, [&](auto rows) { dot_rows<rows.value>(n, w, a, a_stride, out); });
}

}  // namespace sy::kernels
