// Q4_0: 32 elements per block, y = d·(q − 8) with q a 4-bit code. Dot products against Q8_0 activations.
#include <algorithm>
#include <cmath>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = f16(b[i].d);
    for (int j = 0; j < 16; ++j) {
      dst[j] = d * static_cast<float>((b[i].qs[j] & 0xf) - 8);
      dst[j + 16] = d * static_cast<float>((b[i].qs[j] >> 4) - 8);
    }
  }
}

// ggml's reference: the element of largest magnitude maps to code 0 (−8), so d carries its sign.
void quantize_q4_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < kQK; ++j)
      if (std::fabs(src[j]) > amax) amax = std::fabs(src[j]), max = src[j];
    const float d = max / -8.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    b[i].d = fp32_to_fp16(d);
    for (int j = 0; j < 16; ++j) {
      const int lo = std::min(15, static_cast<int>(src[j] * id + 8.5f));
      const int hi = std::min(15, static_cast<int>(src[j + 16] * id + 8.5f));
      b[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

float dot_q4_0_q8_0_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int isum = 0;
    for (int j = 0; j < 16; ++j)
      isum += ((x[i].qs[j] & 0xf) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
    sum += static_cast<double>(f16(x[i].d) * f16(y[i].d)) * isum;
  }
  return static_cast<float>(sum);
}

constexpr VecDotMultiVariant kMulti[] = {{"avx512vnni", dot_q4_0_q8_0_multi_avx512vnni},
                                         {"avx2", dot_q4_0_q8_0_multi_avx2}};
constexpr VecDotVariant kSimd[] = {{"avx512vnni", dot_q4_0_q8_0_avx512vnni}, {"avx2", dot_q4_0_q8_0_avx2}};
constexpr VecDotVariant kPlain[] = {{"avx2", dot_q4_0_q8_0_plain_avx2}};

}  // namespace

extern const QuantKernels kQ4_0Kernels = {
    TensorType::kQ4_0, TensorType::kQ8_0, dequantize_q4_0, quantize_q4_0, dot_q4_0_q8_0_ref, kSimd, {}, kMulti, kPlain};

}  // namespace sy::kernels
