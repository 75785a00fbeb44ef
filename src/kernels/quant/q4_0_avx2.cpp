// Q4_0 · Q8_0 with AVX2.
#include "kernels/quant/q32_simd.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {
struct DecodeQ4_0 {
  static constexpr bool kWholeBlockSums = true;
  static __m256i signed_codes(const BlockQ4_0& b) { return _mm256_sub_epi8(nibbles_32(b.qs), _mm256_set1_epi8(8)); }
  static float scale(const BlockQ4_0& b) { return f16_scalar(b.d); }
};
// The matrices llama.cpp does not repack (rows % 8 != 0, slices of 3-D weights) take its plain vec_dot / tinyBLAS
// order, which for Q4_0 is Q8_0's: each int32 lane of a block scaled into its own float accumulator.
struct DecodeQ4_0Plain : DecodeQ4_0 {
  static constexpr bool kWholeBlockSums = false;
};
}  // namespace

float dot_q4_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
  return dot_q32_q8_0_avx2<BlockQ4_0, DecodeQ4_0>(n, w, a);
}

float dot_q4_0_q8_0_plain_avx2(int64_t n, const void* w, const void* a) {
  return dot_q32_q8_0_avx2<BlockQ4_0, DecodeQ4_0Plain>(n, w, a);
}

void dot_q4_0_q8_0_multi_avx2(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  dot_q32_q8_0_multi_avx2<BlockQ4_0, DecodeQ4_0>(n, w, a, a_stride, n_act, out);
}

}  // namespace sy::kernels
