// MXFP4 · Q8_0 with AVX2: a byte shuffle maps the 4-bit codes to the doubled E2M1 values.
#include "kernels/quant/q32_simd.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {
struct DecodeMxfp4 {
  static constexpr bool kWholeBlockSums = true;
  static __m256i signed_codes(const BlockMXFP4& b) {
    const __m128i table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMxfp4Values));
    return _mm256_shuffle_epi8(_mm256_set_m128i(table, table), nibbles_32(b.qs));
  }
  static float scale(const BlockMXFP4& b) { return mxfp4_scale(b.e); }
};
}  // namespace

float dot_mxfp4_q8_0_avx2(int64_t n, const void* w, const void* a) {
  return dot_q32_q8_0_avx2<BlockMXFP4, DecodeMxfp4>(n, w, a);
}

void dot_mxfp4_q8_0_multi_avx2(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  dot_q32_q8_0_multi_avx2<BlockMXFP4, DecodeMxfp4>(n, w, a, a_stride, n_act, out);
}

}  // namespace sy::kernels
