// Q8_1: the activation type of Q4_1/Q5_1: Q8_0 plus s = d·Σq. Only quantised and dequantised, never a weight.
#include <algorithm>
#include <cmath>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

void dequantize_q8_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_1*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = f16(b[i].d);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(b[i].qs[j]);
  }
}

// As Q8_0 (llama.cpp's x86 path); s uses the unrounded float d, as there.
void quantize_q8_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float amax = 0.f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(src[j]));
    const float d = amax / 127.f;
    const float id = amax != 0.f ? 127.f / amax : 0.f;
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      b[i].qs[j] = static_cast<int8_t>(nearest_int(src[j] * id));
      sum += b[i].qs[j];
    }
    b[i].d = fp32_to_fp16(d);
    b[i].s = fp32_to_fp16(d * static_cast<float>(sum));
  }
}

constexpr QuantizeVariant kQuantize[] = {{"avx512", quantize_q8_1_avx512}, {"avx2", quantize_q8_1_avx2}};

}  // namespace

extern const QuantKernels kQ8_1Kernels = {
    TensorType::kQ8_1, TensorType::kQ8_1, dequantize_q8_1, quantize_q8_1, nullptr, {}, kQuantize};

}  // namespace sy::kernels
