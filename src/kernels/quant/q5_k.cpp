// Q5_K: as Q4_K with a fifth bit per element from qh: y = d·sc_j·q − dmin·m_j, q in 0..31.
// Dot products against Q8_K activations.
#include <algorithm>

#include "kernels/quant/blocks.h"
#include "kernels/quant/k_quant_common.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

// Element 64c + 32s + l: nibble s of qs[32c + l], plus 16 if bit (2c + s) of qh[l] is set.
void unpack_q5_k(const BlockQ5_K& b, uint8_t q[256], uint8_t sc[8], uint8_t m[8]) {
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = static_cast<uint8_t>((b.qs[32 * c + l] & 0xf) | (((b.qh[l] >> (2 * c)) & 1) << 4));
      q[64 * c + 32 + l] = static_cast<uint8_t>((b.qs[32 * c + l] >> 4) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4));
    }
  for (int j = 0; j < 8; ++j) scale_min_k4(j, b.scales, sc[j], m[j]);
}

void dequantize_q5_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_K*>(src);
  uint8_t q[256], sc[8], m[8];
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
    unpack_q5_k(b[i], q, sc, m);
    const float d = f16(b[i].d), dmin = f16(b[i].dmin);
    for (int e = 0; e < kQKK; ++e) dst[e] = d * sc[e / 32] * q[e] - dmin * m[e / 32];
  }
}

void quantize_q5_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_K*>(dst);
  uint8_t q[256];
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    const KScales s = quantize_scale_min_k(src, 31, q);
    b[i].d = s.d;
    b[i].dmin = s.dmin;
    std::copy(s.packed, s.packed + 12, b[i].scales);
    std::fill(b[i].qh, b[i].qh + 32, uint8_t{0});
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        const int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
        b[i].qs[32 * c + l] = static_cast<uint8_t>((lo & 0xf) | ((hi & 0xf) << 4));
        b[i].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
  }
}

float dot_q5_k_q8_k_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[256], sc[8], m[8];
  double sum = 0.0;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    unpack_q5_k(x[i], q, sc, m);
    int scaled = 0, mins = 0;
    for (int j = 0; j < 8; ++j) {
      int isum = 0;
      for (int l = 0; l < 32; ++l) isum += q[32 * j + l] * y[i].qs[32 * j + l];
      scaled += sc[j] * isum;
      mins += m[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
    }
    sum += static_cast<double>(f16(x[i].d) * y[i].d) * scaled - static_cast<double>(f16(x[i].dmin) * y[i].d) * mins;
  }
  return static_cast<float>(sum);
}

constexpr VecDotMultiVariant kMulti[] = {{"avx2", dot_q5_k_q8_k_multi_avx2}};
constexpr VecDotVariant kSimd[] = {{"avx512", dot_q5_k_q8_k_avx512}, {"avx2", dot_q5_k_q8_k_avx2}};

}  // namespace

extern const QuantKernels kQ5_KKernels = {
    TensorType::kQ5_K, TensorType::kQ8_K, dequantize_q5_k, quantize_q5_k, dot_q5_k_q8_k_ref, kSimd, {}, kMulti};

}  // namespace sy::kernels
