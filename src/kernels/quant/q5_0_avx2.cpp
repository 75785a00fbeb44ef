// Q5_0 · Q8_0 with AVX2.
#include "kernels/quant/q32_simd.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {
struct DecodeQ5_0 {
  static constexpr bool kWholeBlockSums = false;
  // Codes 0..31 (nibble | fifth bit << 4).
  static __m256i codes(const BlockQ5_0& b) {
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    return _mm256_or_si256(nibbles_32(b.qs), _mm256_and_si256(bits_to_bytes_32(qh), _mm256_set1_epi8(0x10)));
  }
  static __m256i signed_codes(const BlockQ5_0& b) { return _mm256_sub_epi8(codes(b), _mm256_set1_epi8(16)); }
  static float scale(const BlockQ5_0& b) { return f16_scalar(b.d); }
};
}  // namespace

float dot_q5_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
  return dot_q32_q8_0_avx2<BlockQ5_0, DecodeQ5_0>(n, w, a);
}

void dot_q5_0_q8_0_multi_avx2(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  dot_q32_q8_0_multi_avx2<BlockQ5_0, DecodeQ5_0>(n, w, a, a_stride, n_act, out);
}

}  // namespace sy::kernels
