// Q2_K: super-blocks of 256 = 16 groups of 16, y = d·sc_g·q − dmin·m_g with 2-bit q and 4-bit (sc_g, m_g).
// Dot products against Q8_K activations.
#include <algorithm>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"

namespace sy::kernels {
namespace {

// Element 128h + 32k + l: bits 2k..2k+1 of qs[32h + l].
void unpack_q2_k(const BlockQ2_K& b, uint8_t q[256]) {
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) q[128 * h + 32 * k + l] = (b.qs[32 * h + l] >> (2 * k)) & 3;
}

void dequantize_q2_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ2_K*>(src);
  uint8_t q[256];
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
    unpack_q2_k(b[i], q);
    const float d = f16(b[i].d), dmin = f16(b[i].dmin);
    for (int e = 0; e < kQKK; ++e) {
      const uint8_t s = b[i].scales[e / 16];
      dst[e] = d * (s & 0xf) * q[e] - dmin * (s >> 4);
    }
  }
}

// Reference quantiser: each group spans [min(0, x_min), x_max] in 3 steps; scales and mins are rounded to
// 4 bits under two f16 super-scales and the codes chosen against the rounded values.
void quantize_q2_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ2_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    float scales[16], mins[16], max_scale = 0.f, max_min = 0.f;
    for (int g = 0; g < 16; ++g) {
      float lo = 0.f, hi = src[16 * g];
      for (int l = 0; l < 16; ++l) lo = std::min(lo, src[16 * g + l]), hi = std::max(hi, src[16 * g + l]);
      scales[g] = std::max(0.f, hi - lo) / 3.f;
      mins[g] = -lo;
      max_scale = std::max(max_scale, scales[g]);
      max_min = std::max(max_min, mins[g]);
    }
    const float inv_scale = max_scale > 0.f ? 15.f / max_scale : 0.f;
    const float inv_min = max_min > 0.f ? 15.f / max_min : 0.f;
    for (int g = 0; g < 16; ++g) {
      const int ls = std::min(15, nearest_int(inv_scale * scales[g]));
      const int lm = std::min(15, nearest_int(inv_min * mins[g]));
      b[i].scales[g] = static_cast<uint8_t>(ls | (lm << 4));
    }
    b[i].d = fp32_to_fp16(max_scale / 15.f);
    b[i].dmin = fp32_to_fp16(max_min / 15.f);
    const float d = f16(b[i].d), dmin = f16(b[i].dmin);
    uint8_t q[256];
    for (int g = 0; g < 16; ++g) {
      const float dl = d * (b[i].scales[g] & 0xf), ml = dmin * (b[i].scales[g] >> 4);
      for (int l = 0; l < 16; ++l)
        q[16 * g + l] =
            dl != 0.f ? static_cast<uint8_t>(std::clamp(nearest_int((src[16 * g + l] + ml) / dl), 0, 3)) : 0;
    }
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 32; ++l) {
        const uint8_t* e = q + 128 * h + l;
        b[i].qs[32 * h + l] = static_cast<uint8_t>(e[0] | (e[32] << 2) | (e[64] << 4) | (e[96] << 6));
      }
  }
}

float dot_q2_k_q8_k_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[256];
  double sum = 0.0;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    unpack_q2_k(x[i], q);
    int scaled = 0, mins = 0;
    for (int g = 0; g < 16; ++g) {
      int isum = 0;
      for (int l = 0; l < 16; ++l) isum += q[16 * g + l] * y[i].qs[16 * g + l];
      scaled += (x[i].scales[g] & 0xf) * isum;
      mins += (x[i].scales[g] >> 4) * y[i].bsums[g];
    }
    sum += static_cast<double>(f16(x[i].d) * y[i].d) * scaled - static_cast<double>(f16(x[i].dmin) * y[i].d) * mins;
  }
  return static_cast<float>(sum);
}

}  // namespace

extern const QuantKernels kQ2_KKernels = {TensorType::kQ2_K, TensorType::kQ8_K, dequantize_q2_k,
                                          quantize_q2_k,     dot_q2_k_q8_k_ref, {}};

}  // namespace sy::kernels
