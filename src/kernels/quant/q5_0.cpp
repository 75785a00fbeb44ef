// Q5_0: 32 elements per block, y = d·(q − 16) with a 5-bit q (low nibble in qs, fifth bit in qh).
// Dot products against Q8_0 activations.
#include <algorithm>
#include <cmath>

#include "kernels/quant/blocks.h"
#include "kernels/quant/q5_codes.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_0*>(src);
  int q[32];
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = f16(b[i].d);
    unpack_q5(b[i].qs, b[i].qh, q);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(q[j] - 16);
  }
}

void quantize_q5_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < kQK; ++j)
      if (std::fabs(src[j]) > amax) amax = std::fabs(src[j]), max = src[j];
    const float d = max / -16.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    b[i].d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const int lo = std::min(31, static_cast<int>(src[j] * id + 16.5f));
      const int hi = std::min(31, static_cast<int>(src[j + 16] * id + 16.5f));
      b[i].qs[j] = static_cast<uint8_t>((lo & 0xf) | ((hi & 0xf) << 4));
      qh |= static_cast<uint32_t>(lo >> 4) << j;
      qh |= static_cast<uint32_t>(hi >> 4) << (j + 16);
    }
    std::memcpy(b[i].qh, &qh, 4);
  }
}

float dot_q5_0_q8_0_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  double sum = 0.0;
  int q[32];
  for (int64_t i = 0; i < n / kQK; ++i) {
    unpack_q5(x[i].qs, x[i].qh, q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += (q[j] - 16) * y[i].qs[j];
    sum += static_cast<double>(f16(x[i].d) * f16(y[i].d)) * isum;
  }
  return static_cast<float>(sum);
}

constexpr VecDotMultiVariant kMulti[] = {{"avx512vnni", dot_q5_0_q8_0_multi_avx512vnni},
                                         {"avx2", dot_q5_0_q8_0_multi_avx2}};
constexpr VecDotVariant kSimd[] = {{"avx512vnni", dot_q5_0_q8_0_avx512vnni}, {"avx2", dot_q5_0_q8_0_avx2}};

}  // namespace

extern const QuantKernels kQ5_0Kernels = {
    TensorType::kQ5_0, TensorType::kQ8_0, dequantize_q5_0, quantize_q5_0, dot_q5_0_q8_0_ref, kSimd, {}, kMulti};

}  // namespace sy::kernels
