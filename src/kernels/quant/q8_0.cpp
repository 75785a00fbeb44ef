// Q8_0: 32 elements per block, y = d·q with an int8 q. Both a weight type and the activation type of
// Q4_0/Q5_0/Q8_0/MXFP4, so its quantiser must round exactly as llama.cpp's CPU backend does.
#include <algorithm>
#include <cmath>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

// llama.cpp quantises activations with its AVX path on x86 (the conformance references ran there):
// d = amax/127 stored as f16, q = round-half-even(x · 127/amax). ggml's portable reference differs only in
// rounding halves away from zero and multiplying by 1/d; we follow the x86 path, which produced the references.
void quantize_row_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float amax = 0.f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(src[j]));
    b[i].d = fp32_to_fp16(amax / 127.f);
    const float id = amax != 0.f ? 127.f / amax : 0.f;
    for (int j = 0; j < kQK; ++j) b[i].qs[j] = static_cast<int8_t>(nearest_int(src[j] * id));
  }
}

void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = f16(b[i].d);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(b[i].qs[j]);
  }
}

float dot_q8_0_q8_0_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += x[i].qs[j] * y[i].qs[j];
    sum += static_cast<double>(f16(x[i].d) * f16(y[i].d)) * isum;
  }
  return static_cast<float>(sum);
}

constexpr QuantizeVariant kQuantize[] = {{"avx512", quantize_q8_0_avx512}, {"avx2", quantize_q8_0_avx2}};
constexpr VecDotMultiVariant kMulti[] = {{"avx512vnni", dot_q8_0_q8_0_multi_avx512vnni},
                                         {"avx2", dot_q8_0_q8_0_multi_avx2}};
constexpr VecDotVariant kSimd[] = {{"avx512vnni", dot_q8_0_q8_0_avx512vnni}, {"avx2", dot_q8_0_q8_0_avx2}};

}  // namespace

extern const QuantKernels kQ8_0Kernels = {TensorType::kQ8_0, TensorType::kQ8_0,
                                          dequantize_q8_0,   quantize_row_q8_0,
                                          dot_q8_0_q8_0_ref, kSimd,
                                          kQuantize,         kMulti};

}  // namespace sy::kernels
