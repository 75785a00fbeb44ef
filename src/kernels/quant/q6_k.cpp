// Q6_K: super-blocks of 256 = 16 groups of 16, y = d·sc_g·(q − 32) with a 6-bit q and signed 8-bit sc_g.
// Dot products against Q8_K activations.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

// Signed codes (q − 32) in element order. Element 128h + 32k + l takes its low nibble from
// ql[64h + 32(k & 1) + l] (low nibble for k < 2, high for k >= 2) and bits 2k..2k+1 of qh[32h + l].
void unpack_q6_k(const BlockQ6_K& b, int8_t q[256]) {
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) {
        const uint8_t low = b.ql[64 * h + 32 * (k & 1) + l];
        const int nibble = k < 2 ? (low & 0xf) : (low >> 4);
        const int high = (b.qh[32 * h + l] >> (2 * k)) & 3;
        q[128 * h + 32 * k + l] = static_cast<int8_t>((nibble | (high << 4)) - 32);
      }
}

void dequantize_q6_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  int8_t q[256];
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
    unpack_q6_k(b[i], q);
    const float d = f16(b[i].d);
    for (int e = 0; e < kQKK; ++e) dst[e] = d * b[i].scales[e / 16] * q[e];
  }
}

// Reference quantiser: each group's largest-magnitude element maps to code −32, so its scale carries that
// element's sign; the group scales are then rounded to 8 bits under one f16 super-scale (ggml's layout,
// without its scale search).
void quantize_q6_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ6_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    float scales[16];
    float max_scale = 0.f, max_abs_scale = 0.f;
    for (int g = 0; g < 16; ++g) {
      float amax = 0.f, max = 0.f;
      for (int l = 0; l < 16; ++l)
        if (std::fabs(src[16 * g + l]) > amax) amax = std::fabs(src[16 * g + l]), max = src[16 * g + l];
      scales[g] = max / -32.f;
      if (std::fabs(scales[g]) > max_abs_scale) max_abs_scale = std::fabs(scales[g]), max_scale = scales[g];
    }
    std::memset(&b[i], 0, sizeof(BlockQ6_K));
    if (max_abs_scale == 0.f) continue;
    const float iscale = -128.f / max_scale;
    b[i].d = fp32_to_fp16(1.f / iscale);
    for (int g = 0; g < 16; ++g) b[i].scales[g] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[g])));
    uint8_t q[256];
    const float d = f16(b[i].d);
    for (int g = 0; g < 16; ++g) {
      const float dl = d * b[i].scales[g];
      for (int l = 0; l < 16; ++l)
        q[16 * g + l] =
            dl != 0.f ? static_cast<uint8_t>(std::clamp(nearest_int(src[16 * g + l] / dl), -32, 31) + 32) : 32;
    }
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 32; ++l) {
        const uint8_t* e = q + 128 * h + l;
        b[i].ql[64 * h + l] = static_cast<uint8_t>((e[0] & 0xf) | ((e[64] & 0xf) << 4));
        b[i].ql[64 * h + 32 + l] = static_cast<uint8_t>((e[32] & 0xf) | ((e[96] & 0xf) << 4));
        b[i].qh[32 * h + l] =
            static_cast<uint8_t>((e[0] >> 4) | ((e[32] >> 4) << 2) | ((e[64] >> 4) << 4) | ((e[96] >> 4) << 6));
      }
  }
}

float dot_q6_k_q8_k_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[256];
  double sum = 0.0;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    unpack_q6_k(x[i], q);
    int scaled = 0;
    for (int g = 0; g < 16; ++g) {
      int isum = 0;
      for (int l = 0; l < 16; ++l) isum += q[16 * g + l] * y[i].qs[16 * g + l];
      scaled += x[i].scales[g] * isum;
    }
    sum += static_cast<double>(f16(x[i].d) * y[i].d) * scaled;
  }
  return static_cast<float>(sum);
}

constexpr VecDotMultiVariant kMulti[] = {{"avx512vnni", dot_q6_k_q8_k_multi_avx512vnni},
                                         {"avx512", dot_q6_k_q8_k_multi_avx512},
                                         {"avx2", dot_q6_k_q8_k_multi_avx2}};
constexpr VecDotVariant kSimd[] = {
    {"avx512vnni", dot_q6_k_q8_k_avx512vnni}, {"avx512", dot_q6_k_q8_k_avx512}, {"avx2", dot_q6_k_q8_k_avx2}};

}  // namespace

extern const QuantKernels kQ6_KKernels = {
    TensorType::kQ6_K, TensorType::kQ8_K, dequantize_q6_k, quantize_q6_k, dot_q6_k_q8_k_ref, kSimd, {}, kMulti};

}  // namespace sy::kernels
