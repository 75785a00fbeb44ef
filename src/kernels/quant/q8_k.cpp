// Q8_K: the activation type of the K formats: 256 int8 per block, a float scale and per-16 sums.
// Only quantised and dequantised, never a weight (no dot product of its own).
#include <cmath>
#include <cstring>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

void dequantize_q8_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK)
    for (int j = 0; j < kQKK; ++j) dst[j] = b[i].d * static_cast<float>(b[i].qs[j]);
}

// ggml's quantize_row_q8_K_ref, which is also what its x86 backend runs: the element of largest magnitude
// maps to −127, so d takes the opposite sign of that element; ties round to even; +127 is the cap.
void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < kQKK; ++j)
      if (std::fabs(src[j]) > amax) amax = std::fabs(src[j]), max = src[j];
    if (amax == 0.f) {
      std::memset(&b[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < kQKK; ++j) {
      const int v = nearest_int(iscale * src[j]);
      b[i].qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
    }
    for (int g = 0; g < kQKK / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += b[i].qs[16 * g + j];
      b[i].bsums[g] = static_cast<int16_t>(sum);
    }
    b[i].d = 1.f / iscale;
  }
}

constexpr QuantizeVariant kQuantize[] = {{"avx512", quantize_q8_k_avx512}, {"avx2", quantize_q8_k_avx2}};

}  // namespace

extern const QuantKernels kQ8_KKernels = {
    TensorType::kQ8_K, TensorType::kQ8_K, dequantize_q8_k, quantize_q8_k, nullptr, {}, kQuantize};

}  // namespace sy::kernels
