// Q5_1: 32 elements per block, y = d·q + m with a 5-bit q. Dot products against Q8_1 activations.
#include <algorithm>
#include <cfloat>

#include "kernels/quant/blocks.h"
#include "kernels/quant/q5_codes.h"
#include "kernels/quant/quant.h"

namespace sy::kernels {
namespace {

void dequantize_q5_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_1*>(src);
  int q[32];
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = f16(b[i].d), m = f16(b[i].m);
    unpack_q5(b[i].qs, b[i].qh, q);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(q[j]) + m;
  }
}

void quantize_q5_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) min = std::min(min, src[j]), max = std::max(max, src[j]);
    const float d = (max - min) / 31.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    b[i].d = fp32_to_fp16(d);
    b[i].m = fp32_to_fp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const int lo = std::min(31, static_cast<int>((src[j] - min) * id + 0.5f));
      const int hi = std::min(31, static_cast<int>((src[j + 16] - min) * id + 0.5f));
      b[i].qs[j] = static_cast<uint8_t>((lo & 0xf) | ((hi & 0xf) << 4));
      qh |= static_cast<uint32_t>(lo >> 4) << j;
      qh |= static_cast<uint32_t>(hi >> 4) << (j + 16);
    }
    std::memcpy(b[i].qh, &qh, 4);
  }
}

float dot_q5_1_q8_1_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  double sum = 0.0;
  int q[32];
  for (int64_t i = 0; i < n / kQK; ++i) {
    unpack_q5(x[i].qs, x[i].qh, q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += q[j] * y[i].qs[j];
    sum += static_cast<double>(f16(x[i].d) * f16(y[i].d)) * isum + static_cast<double>(f16(x[i].m) * f16(y[i].s));
  }
  return static_cast<float>(sum);
}

}  // namespace

extern const QuantKernels kQ5_1Kernels = {TensorType::kQ5_1, TensorType::kQ8_1, dequantize_q5_1,
                                          quantize_q5_1,     dot_q5_1_q8_1_ref, {}};

}  // namespace sy::kernels
