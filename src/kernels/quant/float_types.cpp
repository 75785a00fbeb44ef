// F32, F16 and BF16: plain element types. F16/BF16 weights take activations rounded to the same type, as
// ggml does, so results match the reference's rounding.
#include <cstring>

#include "core/fp16.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

void dequantize_f32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }
void quantize_f32(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }
float dot_f32_ref(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  double sum = 0.0;  // the reference favours accuracy over speed
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(sum);
}

void dequantize_f16(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(h[i]);
}
void quantize_f16(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(src[i]);
}
float dot_f16_ref(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const uint16_t*>(x);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(a[i])) * fp16_to_fp32(b[i]);
  return static_cast<float>(sum);
}

void dequantize_bf16(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(h[i]);
}
void quantize_bf16(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_bf16(src[i]);
}
float dot_bf16_ref(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const uint16_t*>(x);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(bf16_to_fp32(a[i])) * bf16_to_fp32(b[i]);
  return static_cast<float>(sum);
}

constexpr VecDotVariant kF32Simd[] = {{"avx512", dot_f32_avx512}, {"avx2", dot_f32_avx2}};
constexpr VecDotMultiVariant kF32Multi[] = {{"avx2", dot_f32_multi_avx2}};
constexpr VecDotVariant kF16Simd[] = {{"avx512", dot_f16_avx512}, {"avx2", dot_f16_avx2}};
constexpr VecDotMultiVariant kF16Multi[] = {{"avx2", dot_f16_multi_avx2}};
constexpr QuantizeVariant kF16Quantize[] = {{"avx512", quantize_f16_avx512}, {"avx2", quantize_f16_avx2}};
constexpr QuantizeVariant kBF16Quantize[] = {{"avx512", quantize_bf16_avx512}, {"avx2", quantize_bf16_avx2}};
constexpr VecDotVariant kBF16Simd[] = {
    {"avx512bf16", dot_bf16_avx512bf16}, {"avx512", dot_bf16_avx512}, {"avx2", dot_bf16_avx2}};

}  // namespace

extern const QuantKernels kF32Kernels = {
    TensorType::kF32, TensorType::kF32, dequantize_f32, quantize_f32, dot_f32_ref, kF32Simd, {}, kF32Multi};
extern const QuantKernels kF16Kernels = {TensorType::kF16, TensorType::kF16, dequantize_f16, quantize_f16,
                                         dot_f16_ref,      kF16Simd,         kF16Quantize,   kF16Multi};
extern const QuantKernels kBF16Kernels = {TensorType::kBF16, TensorType::kBF16, dequantize_bf16, quantize_bf16,
                                          dot_bf16_ref,      kBF16Simd,         kBF16Quantize};

}  // namespace sy::kernels
