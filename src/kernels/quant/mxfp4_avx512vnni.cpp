// MXFP4 · Q8_0 with AVX-512 VNNI: the shuffle table holds the doubled E2M1 values plus 16, so they are unsigned.
#include "kernels/quant/q32_simd.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {
struct DecodeMxfp4 {
  static constexpr int kOffsetShift = 4;  // table values −12..12 stored as 4..28
  static __m256i unsigned_codes(const BlockMXFP4& b) {
    const __m256i table =
        _mm256_add_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kMxfp4Values))),
                        _mm256_set1_epi8(1 << kOffsetShift));
    return _mm256_shuffle_epi8(table, nibbles_32(b.qs));
  }
  static float scale(const BlockMXFP4& b) { return mxfp4_scale(b.e); }
};
}  // namespace

float dot_mxfp4_q8_0_avx512vnni(int64_t n, const void* w, const void* a) {
  return dot_q32_q8_0_avx512vnni<BlockMXFP4, DecodeMxfp4>(n, w, a);
}

void dot_mxfp4_q8_0_multi_avx512vnni(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  dot_q32_q8_0_multi_avx512vnni<BlockMXFP4, DecodeMxfp4>(n, w, a, a_stride, n_act, out);
}

}  // namespace sy::kernels
