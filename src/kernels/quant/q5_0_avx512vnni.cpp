// Q5_0 · Q8_0 with AVX-512 VNNI: 5-bit unsigned codes with offset 16.
#include "kernels/quant/q32_simd.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {
struct DecodeQ5_0 {
  static constexpr int kOffsetShift = 4;  // codes 0..31 for −16..15
  static __m256i unsigned_codes(const BlockQ5_0& b) {
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    // The mask register form of "bit j → byte j" is a single instruction here.
    const __m256i high = _mm256_maskz_mov_epi8(static_cast<__mmask32>(qh), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(nibbles_32(b.qs), high);
  }
  static float scale(const BlockQ5_0& b) { return f16_scalar(b.d); }
};
}  // namespace

float dot_q5_0_q8_0_avx512vnni(int64_t n, const void* w, const void* a) {
  return dot_q32_q8_0_avx512vnni<BlockQ5_0, DecodeQ5_0>(n, w, a);
}

void dot_q5_0_q8_0_multi_avx512vnni(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  dot_q32_q8_0_multi_avx512vnni<BlockQ5_0, DecodeQ5_0>(n, w, a, a_stride, n_act, out);
}

}  // namespace sy::kernels
