// Q6_K · Q8_K with AVX-512 VNNI, for kRows activation rows at once. As for Q4_K (q4_k_avx512vnni.cpp), each
// register holds 64 codes in the activations' own order so activations load straight from memory: the 64
// elements 128h + 64m + [0, 64) (half h, m = 0 or 1) take their low nibbles from ql[64h .. 64h+63] (m = 0) or
// its high nibbles (m = 1), and their top two bits from qh[32h .. 32h+31], bit pair 2·(2m) for the first 32
// and 2·(2m+1) for the second — one broadcast and one per-half variable shift. Scales are per 16 elements
// in element order; the −32 offset is taken off once per super-block through bsums, in integers.
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
  // qh bit pair 0 (first 32 codes) and 1 (second 32) moved to bits 4-5: left by 4 and by 2; pairs 2 and 3:
  // right by 0 and by 2. 16-bit shifts spill into neighbouring bytes; the 0x30 mask keeps each byte's own.
  const __m512i shift_m0 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  const __m512i shift_m1 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  // Scale selector for register r = 2h + m: its int16 lane j (after maddubs) covers elements 2j and 2j+1
  // of the register, so scale 4r + j / 8.
  __m512i pick[4];
  for (int r = 0; r < 4; ++r) {
    alignas(64) int16_t idx[32];
    for (int j = 0; j < 32; ++j) idx[j] = static_cast<int16_t>(4 * r + j / 8);
    pick[r] = _mm512_load_si512(idx);
  }
  __m512 acc[kRows];
  for (int j = 0; j < kRows; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    if constexpr (kRows == 1) prefetch_stream(x + i, sizeof(BlockQ6_K));
    const __m256i sc16_256 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales)));
    const __m512i sc16 = _mm512_castsi256_si512(sc16_256);
    __m512i codes[4], scale[4];
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(x[i].ql + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh + 32 * h)));
      // (A & low4) | B, A the low bits and B the masked high bits: ternary-logic function 0xEC on (A, B, low4).
      codes[2 * h] =
          _mm512_ternarylogic_epi32(ql, _mm512_and_si512(_mm512_sllv_epi16(qh, shift_m0), bits45), low4, 0xEC);
      codes[2 * h + 1] = _mm512_ternarylogic_epi32(
          _mm512_srli_epi16(ql, 4), _mm512_and_si512(_mm512_srlv_epi16(qh, shift_m1), bits45), low4, 0xEC);
    }
    for (int r = 0; r < 4; ++r) scale[r] = _mm512_permutexvar_epi16(pick[r], sc16);
    const float d = f16_scalar(x[i].d);
    for (int j = 0; j < kRows; ++j) {
      const BlockQ8_K& b = y[j][i];
      __m512i sumi = _mm512_setzero_si512();
      for (int r = 0; r < 4; ++r)
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(codes[r], _mm512_loadu_si512(b.qs + 64 * r)), scale[r]);
      // Codes are stored +32: subtract 32 · Σ_g scale_g · bsum_g (exact in int32) from the first 8 lanes.
      const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.bsums));
      const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16_256), 5);
      sumi = _mm512_mask_sub_epi32(sumi, 0xff, sumi, _mm512_castsi256_si512(offset));
      acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(d * b.d), _mm512_cvtepi32_ps(sumi), acc[j]);
    }
  }
  for (int j = 0; j < kRows; ++j) out[j] = _mm512_reduce_add_ps(acc[j]);
}

}  // namespace

float dot_q6_k_q8_k_avx512vnni(int64_t n, const void* w, const void* a) {
  float out;
  dot_rows<1>(n, w, a, 0, &out);
  return out;
}

void dot_q6_k_q8_k_multi_avx512vnni(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  with_row_count(n_act, [&](auto rows) { dot_rows<rows.value>(n, w, a, a_stride, out); });
}

}  // namespace sy::kernels
