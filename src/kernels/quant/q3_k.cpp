// Q3_K: super-blocks of 256 = 16 groups of 16, y = d·sc_g·q with a signed 3-bit q (−4..3) and signed 6-bit
// sc_g. Low 2 bits in qs (Q2_K's layout), the third in hmask, where a *clear* bit means "subtract 4".
// Dot products against Q8_K activations.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"

namespace sy::kernels {
namespace {

// Element 128h + 32k + l: bits 2k..2k+1 of qs[32h + l]; third bit = bit (4h + k) of hmask[l].
void unpack_q3_k(const BlockQ3_K& b, int8_t q[256]) {
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) {
        const int low = (b.qs[32 * h + l] >> (2 * k)) & 3;
        const bool high = (b.hmask[l] >> (4 * h + k)) & 1;
        q[128 * h + 32 * k + l] = static_cast<int8_t>(low - (high ? 0 : 4));
      }
}

void dequantize_q3_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ3_K*>(src);
  int8_t q[256], sc[16];
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
    unpack_q3_k(b[i], q);
    q3_k_scales(b[i].scales, sc);
    const float d = f16(b[i].d);
    for (int e = 0; e < kQKK; ++e) dst[e] = d * sc[e / 16] * q[e];
  }
}

// Reference quantiser: each group's largest-magnitude element maps to −4; group scales are rounded to 6 signed
// bits under one f16 super-scale (ggml's layout without its iterative refinement).
void quantize_q3_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ3_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    float scales[16];
    float max_scale = 0.f, max_abs_scale = 0.f;
    for (int g = 0; g < 16; ++g) {
      float amax = 0.f, max = 0.f;
      for (int l = 0; l < 16; ++l)
        if (std::fabs(src[16 * g + l]) > amax) amax = std::fabs(src[16 * g + l]), max = src[16 * g + l];
      scales[g] = max / -4.f;
      if (std::fabs(scales[g]) > max_abs_scale) max_abs_scale = std::fabs(scales[g]), max_scale = scales[g];
    }
    std::memset(&b[i], 0, sizeof(BlockQ3_K));
    int8_t sc[16] = {};
    if (max_abs_scale != 0.f) {
      const float iscale = -32.f / max_scale;
      for (int g = 0; g < 16; ++g) {
        const int l = std::clamp(nearest_int(iscale * scales[g]), -32, 31) + 32;
        if (g < 8)
          b[i].scales[g] = static_cast<uint8_t>(l & 0xf);
        else
          b[i].scales[g - 8] |= static_cast<uint8_t>((l & 0xf) << 4);
        b[i].scales[8 + g % 4] |= static_cast<uint8_t>((l >> 4) << (2 * (g / 4)));
      }
      b[i].d = fp32_to_fp16(1.f / iscale);
      q3_k_scales(b[i].scales, sc);
    }
    const float d = f16(b[i].d);
    uint8_t q[256];  // codes 0..7 (value + 4)
    for (int g = 0; g < 16; ++g) {
      const float dl = d * sc[g];
      for (int l = 0; l < 16; ++l)
        q[16 * g + l] = dl != 0.f ? static_cast<uint8_t>(std::clamp(nearest_int(src[16 * g + l] / dl), -4, 3) + 4) : 4;
    }
    for (int e = 0; e < kQKK; ++e)
      if (q[e] > 3) b[i].hmask[e % 32] |= static_cast<uint8_t>(1u << (e / 32));
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 32; ++l) {
        const uint8_t* e = q + 128 * h + l;
        b[i].qs[32 * h + l] =
            static_cast<uint8_t>((e[0] & 3) | ((e[32] & 3) << 2) | ((e[64] & 3) << 4) | ((e[96] & 3) << 6));
      }
  }
}

float dot_q3_k_q8_k_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[256], sc[16];
  double sum = 0.0;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    unpack_q3_k(x[i], q);
    q3_k_scales(x[i].scales, sc);
    int scaled = 0;
    for (int g = 0; g < 16; ++g) {
      int isum = 0;
      for (int l = 0; l < 16; ++l) isum += q[16 * g + l] * y[i].qs[16 * g + l];
      scaled += sc[g] * isum;
    }
    sum += static_cast<double>(f16(x[i].d) * y[i].d) * scaled;
  }
  return static_cast<float>(sum);
}

}  // namespace

extern const QuantKernels kQ3_KKernels = {TensorType::kQ3_K, TensorType::kQ8_K, dequantize_q3_k,
                                          quantize_q3_k,     dot_q3_k_q8_k_ref, {}};

}  // namespace sy::kernels
