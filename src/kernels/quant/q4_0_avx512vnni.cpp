// Q4_0 · Q8_0 with AVX-512 VNNI: the nibbles are already unsigned codes with offset 8.
#include "kernels/quant/q32_simd.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {
struct DecodeQ4_0 {
  static constexpr int kOffsetShift = 3;  // codes 0..15 for −8..7
  static __m256i unsigned_codes(const BlockQ4_0& b) { return nibbles_32(b.qs); }
  static float scale(const BlockQ4_0& b) { return f16_scalar(b.d); }
};
}  // namespace

float dot_q4_0_q8_0_avx512vnni(int64_t n, const void* w, const void* a) {
  return dot_q32_q8_0_avx512vnni<BlockQ4_0, DecodeQ4_0>(n, w, a);
}

void dot_q4_0_q8_0_multi_avx512vnni(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  dot_q32_q8_0_multi_avx512vnni<BlockQ4_0, DecodeQ4_0>(n, w, a, a_stride, n_act, out);
}

}  // namespace sy::kernels
