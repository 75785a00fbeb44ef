// Q8_0 · Q8_0 with AVX-512 VNNI: the weights are raw signed bytes, multiplied as |w| by the activations with
// w's sign (q32_simd.h, decode_pair).
#include "kernels/quant/q32_simd.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {
struct DecodeQ8_0 {
  static constexpr bool kSignedCodes = true;
  static __m256i signed_codes(const BlockQ8_0& b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)); }
  static float scale(const BlockQ8_0& b) { return f16_scalar(b.d); }
};
}  // namespace

float dot_q8_0_q8_0_avx512vnni(int64_t n, const void* w, const void* a) {
  return dot_q32_q8_0_avx512vnni<BlockQ8_0, DecodeQ8_0>(n, w, a);
}

void dot_q8_0_q8_0_multi_avx512vnni(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  dot_q32_q8_0_multi_avx512vnni<BlockQ8_0, DecodeQ8_0>(n, w, a, a_stride, n_act, out);
}

}  // namespace sy::kernels
