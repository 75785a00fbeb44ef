// Q4_1: 32 elements per block, y = d·q + m. Dot products against Q8_1 activations, whose cached d·Σq applies
// the minimum (as ggml does, so results follow its rounding).
#include <algorithm>
#include <cfloat>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"

namespace sy::kernels {
namespace {

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = f16(b[i].d), m = f16(b[i].m);
    for (int j = 0; j < 16; ++j) {
      dst[j] = d * static_cast<float>(b[i].qs[j] & 0xf) + m;
      dst[j + 16] = d * static_cast<float>(b[i].qs[j] >> 4) + m;
    }
  }
}

void quantize_q4_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) min = std::min(min, src[j]), max = std::max(max, src[j]);
    const float d = (max - min) / 15.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    b[i].d = fp32_to_fp16(d);
    b[i].m = fp32_to_fp16(min);
    for (int j = 0; j < 16; ++j) {
      const int lo = std::min(15, static_cast<int>((src[j] - min) * id + 0.5f));
      const int hi = std::min(15, static_cast<int>((src[j + 16] - min) * id + 0.5f));
      b[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

float dot_q4_1_q8_1_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int isum = 0;
    for (int j = 0; j < 16; ++j) isum += (x[i].qs[j] & 0xf) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
    sum += static_cast<double>(f16(x[i].d) * f16(y[i].d)) * isum + static_cast<double>(f16(x[i].m) * f16(y[i].s));
  }
  return static_cast<float>(sum);
}

}  // namespace

extern const QuantKernels kQ4_1Kernels = {TensorType::kQ4_1, TensorType::kQ8_1, dequantize_q4_1,
                                          quantize_q4_1,     dot_q4_1_q8_1_ref, {}};

}  // namespace sy::kernels
