// Q4_K: super-blocks of 256 = 8 sub-blocks of 32, y = d·sc_j·q − dmin·m_j with 4-bit q and 6-bit (sc, m).
// Dot products against Q8_K activations.
#include <algorithm>

#include "kernels/quant/blocks.h"
#include "kernels/quant/k_quant_common.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

// Codes in element order: element 64c + 32s + l is nibble s of qs[32c + l].
void unpack_q4_k(const BlockQ4_K& b, uint8_t q[256], uint8_t sc[8], uint8_t m[8]) {
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = b.qs[32 * c + l] & 0xf;
      q[64 * c + 32 + l] = b.qs[32 * c + l] >> 4;
    }
  for (int j = 0; j < 8; ++j) scale_min_k4(j, b.scales, sc[j], m[j]);
}

void dequantize_q4_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  uint8_t q[256], sc[8], m[8];
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
    unpack_q4_k(b[i], q, sc, m);
    const float d = f16(b[i].d), dmin = f16(b[i].dmin);
    for (int e = 0; e < kQKK; ++e) dst[e] = d * sc[e / 32] * q[e] - dmin * m[e / 32];
  }
}

void quantize_q4_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_K*>(dst);
  uint8_t q[256];
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    const KScales s = quantize_scale_min_k(src, 15, q);
    b[i].d = s.d;
    b[i].dmin = s.dmin;
    std::copy(s.packed, s.packed + 12, b[i].scales);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        b[i].qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
  }
}

float dot_q4_k_q8_k_ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[256], sc[8], m[8];
  double sum = 0.0;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    unpack_q4_k(x[i], q, sc, m);
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

constexpr VecDotMultiVariant kMulti[] = {{"avx512vnni", dot_q4_k_q8_k_multi_avx512vnni},
                                         {"avx512", dot_q4_k_q8_k_multi_avx512},
                                         {"avx2", dot_q4_k_q8_k_multi_avx2}};
constexpr VecDotVariant kPlain[] = {{"avx2", dot_q4_k_q8_k_plain_avx2}};
constexpr VecDotMultiVariant kGemm[] = {{"avx2", dot_q4_k_q8_k_gemm_avx2}};
constexpr VecDotTileVariant kTile[] = {{"avx2", dot_q4_k_q8_k_tile_avx2}};
constexpr VecDotVariant kSimd[] = {
    {"avx512vnni", dot_q4_k_q8_k_avx512vnni}, {"avx512", dot_q4_k_q8_k_avx512}, {"avx2", dot_q4_k_q8_k_avx2}};

}  // namespace

extern const QuantKernels kQ4_KKernels = {TensorType::kQ4_K,
                                          TensorType::kQ8_K,
                                          dequantize_q4_k,
                                          quantize_q4_k,
                                          dot_q4_k_q8_k_ref,
                                          kSimd,
                                          {},
                                          kMulti,
                                          kPlain,
                                          kGemm,
                                          kTile};

}  // namespace sy::kernels
