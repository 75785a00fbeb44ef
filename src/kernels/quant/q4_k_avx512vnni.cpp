// Q4_K · Q8_K with AVX-512 VNNI, for kRows activation rows at once (1 in decode, up to kMaxDotRows in prefill).
// Each 32-byte group of quants holds sub-block 2g in its low nibbles and 2g+1 in its high nibbles;
// broadcasting it to both halves of a register and shifting only the upper half by 4 puts the 64 codes in
// the activations' own order, so activations load straight from memory with no shuffles. Scales apply
// through vpdpwssd; in decode the minimums are accumulated in a vector and summed once per row.
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {

template <int kRows>
void dot_rows(int64_t n, const void* w, const void* a, size_t a_stride, float* out) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y[kRows];
  for (int j = 0; j < kRows; ++j) y[j] = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a) + j * a_stride);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i upper_by_4 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
  // Scale selector for group g: sub-block 2g in int16 lanes 0-15, 2g+1 in lanes 16-31.
  __m512i pick[4];
  for (int g = 0; g < 4; ++g)
    pick[g] = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(2 * g)),
                                 _mm256_set1_epi16(static_cast<int16_t>(2 * g + 1)), 1);
  __m512 acc[kRows];
  __m256 acc_min[kRows];  // decode: minimums per lane, summed once per row
  float mins[kRows] = {};  // prefill: minimums per block (see below)
  for (int j = 0; j < kRows; ++j) acc[j] = _mm512_setzero_ps(), acc_min[j] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    if constexpr (kRows == 1) prefetch_stream(x + i, sizeof(BlockQ4_K));
    uint32_t packed[4];
    scale_min_k4_all(x[i].scales, packed);
    const __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed))));
    const __m128i m8 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed + 2)));
    // bsums holds 16 sums of 16 activations; sub-block j's minimum pairs with bsums 2j and 2j+1.
    const __m256i mins16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
    __m512i codes[4], scale[4];
    for (int g = 0; g < 4; ++g) {
      const __m512i both = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * g)));
      codes[g] = _mm512_and_si512(_mm512_srlv_epi16(both, upper_by_4), low4);
      scale[g] = _mm512_permutexvar_epi16(pick[g], sc16);
    }
    const float d = f16_scalar(x[i].d), dmin = f16_scalar(x[i].dmin);
    for (int j = 0; j < kRows; ++j) {
      const BlockQ8_K& b = y[j][i];
      const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.bsums));
      auto part = [&](int g) { return _mm512_maddubs_epi16(codes[g], _mm512_loadu_si512(b.qs + 64 * g)); };
      if constexpr (kRows == 1) {
        __m512i sumi = _mm512_setzero_si512();
        for (int g = 0; g < 4; ++g) sumi = _mm512_dpwssd_epi32(sumi, part(g), scale[g]);
        acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(d * b.d), _mm512_cvtepi32_ps(sumi), acc[j]);
        acc_min[j] = _mm256_fmadd_ps(_mm256_set1_ps(dmin * b.d), _mm256_cvtepi32_ps(_mm256_madd_epi16(bsums, mins16)), acc_min[j]);
      } else {
        // Prefill keeps the float order of the shuffle-based kernel (q4_k_avx512.cpp): int32 lane l < 8 holds
        // sub-blocks 0, 1, 4, 5 and lane 8 + l sub-blocks 2, 3, 6, 7 (exact integers either way), minimums
        // summed per block. A conformance prompt (deepseek3-kq Q4_K_M s32) sits on a routing near-tie that
        // this order resolves as llama.cpp does and the decode order above does not.
        const __m512i s02 = _mm512_dpwssd_epi32(_mm512_madd_epi16(part(0), scale[0]), part(2), scale[2]);
        const __m512i s13 = _mm512_dpwssd_epi32(_mm512_madd_epi16(part(1), scale[1]), part(3), scale[3]);
        const __m512i sumi = _mm512_add_epi32(_mm512_shuffle_i64x2(s02, s13, 0x44), _mm512_shuffle_i64x2(s02, s13, 0xEE));
        acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(d * b.d), _mm512_cvtepi32_ps(sumi), acc[j]);
        mins[j] += dmin * b.d * static_cast<float>(hsum_i32(_mm256_madd_epi16(bsums, mins16)));
      }
    }
  }
  for (int j = 0; j < kRows; ++j) out[j] = _mm512_reduce_add_ps(acc[j]) - (kRows == 1 ? hsum(acc_min[j]) : mins[j]);
}

}  // namespace

float dot_q4_k_q8_k_avx512vnni(int64_t n, const void* w, const void* a) {
  float out;
  dot_rows<1>(n, w, a, 0, &out);
  return out;
}

void dot_q4_k_q8_k_multi_avx512vnni(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  switch (n_act) {
    case 1: return dot_rows<1>(n, w, a, a_stride, out);
    case 2: return dot_rows<2>(n, w, a, a_stride, out);
    case 3: return dot_rows<3>(n, w, a, a_stride, out);
    default: return dot_rows<4>(n, w, a, a_stride, out);
  }
}

}  // namespace sy::kernels
