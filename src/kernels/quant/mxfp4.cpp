// MXFP4 (OCP microscaling FP4): 32 E2M1 codes sharing one E8M0 exponent. Dot products against Q8_0.
#include <cmath>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

void dequantize_mxfp4(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockMXFP4*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = mxfp4_scale(b[i].e);
    for (int j = 0; j < 16; ++j) {
      dst[j] = d * kMxfp4Values[b[i].qs[j] & 0xf];
      dst[j + 16] = d * kMxfp4Values[b[i].qs[j] >> 4];
    }
  }
}

int nearest_code(float x, float d) {
  int best = 0;
  float best_err = std::fabs(kMxfp4Values[0] * d - x);
  for (int c = 1; c < 16; ++c) {
    const float err = std::fabs(kMxfp4Values[c] * d - x);
    if (err < best_err) best = c, best_err = err;
  }
  return best;
}

// As ggml's reference: the exponent puts amax in [4, 8) units of 2^(e-127), then every element takes the
// nearest code (values past 6 units clip to ±6).
void quantize_mxfp4(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockMXFP4*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float amax = 0.f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(src[j]));
    const int e = amax > 0.f ? static_cast<int>(std::floor(std::log2(amax))) - 2 + 127 : 0;
    b[i].e = static_cast<uint8_t>(e < 0 ? 0 : (e > 254 ? 254 : e));
    const float d = mxfp4_scale(b[i].e);
    for (int j = 0; j < 16; ++j)
      b[i].qs[j] = static_cast<uint8_t>(nearest_code(src[j], d) | (nearest_code(src[j + 16], d) << 4));
  }
}

float dot_mxfp4_q8_0_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockMXFP4*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int isum = 0;
    for (int j = 0; j < 16; ++j)
      isum += kMxfp4Values[x[i].qs[j] & 0xf] * y[i].qs[j] + kMxfp4Values[x[i].qs[j] >> 4] * y[i].qs[j + 16];
    sum += static_cast<double>(mxfp4_scale(x[i].e) * f16(y[i].d)) * isum;
  }
  return static_cast<float>(sum);
}

constexpr VecDotMultiVariant kMulti[] = {{"avx512vnni", dot_mxfp4_q8_0_multi_avx512vnni},
                                         {"avx2", dot_mxfp4_q8_0_multi_avx2}};
constexpr VecDotVariant kSimd[] = {{"avx512vnni", dot_mxfp4_q8_0_avx512vnni}, {"avx2", dot_mxfp4_q8_0_avx2}};

}  // namespace

extern const QuantKernels kMXFP4Kernels = {
    TensorType::kMXFP4, TensorType::kQ8_0, dequantize_mxfp4, quantize_mxfp4, dot_mxfp4_q8_0_ref, kSimd, {}, kMulti};

}  // namespace sy::kernels
