// F32, F16 and BF16 dot products with AVX-512: 16 lanes, 4 accumulators, masked loads for the tail. F32 and F16
// follow ggml_vec_dot_f32/_f16 exactly (the reference's order; float_types_avx2.cpp says how).
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {

struct LoadF32 {
  static __m512 load(const void* p, int64_t i, __mmask16 m = 0xffff) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(p) + i);
  }
};
struct LoadF16 {
  static __m512 load(const void* p, int64_t i, __mmask16 m = 0xffff) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i));
  }
};
struct LoadBF16 {
  static __m512 load(const void* p, int64_t i, __mmask16 m = 0xffff) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

template <typename Load>
float dot(int64_t n, const void* w, const void* a) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int r = 0; r < 4; ++r) acc[r] = _mm512_fmadd_ps(Load::load(w, i + 16 * r), Load::load(a, i + 16 * r), acc[r]);
  for (; i + 16 <= n; i += 16) acc[0] = _mm512_fmadd_ps(Load::load(w, i), Load::load(a, i), acc[0]);
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    acc[1] = _mm512_fmadd_ps(Load::load(w, i, m), Load::load(a, i, m), acc[1]);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

template <typename Load>
float dot_ggml(int64_t n, const void* w, const void* a) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  const int64_t n64 = n & ~int64_t{63};
  for (int64_t i = 0; i < n64; i += 64)
    for (int r = 0; r < 4; ++r) acc[r] = _mm512_fmadd_ps(Load::load(w, i + 16 * r), Load::load(a, i + 16 * r), acc[r]);
  acc[0] = _mm512_add_ps(acc[0], acc[2]);
  acc[1] = _mm512_add_ps(acc[1], acc[3]);
  acc[0] = _mm512_add_ps(acc[0], acc[1]);
  alignas(64) float tail_w[64], tail_a[64];
  const int64_t rest = n - n64;
  for (int64_t i = 0; i < rest; i += 16) {
    const auto m = static_cast<__mmask16>(rest - i >= 16 ? 0xffff : (1u << (rest - i)) - 1);
    _mm512_store_ps(tail_w + i, Load::load(w, n64 + i, m));
    _mm512_store_ps(tail_a + i, Load::load(a, n64 + i, m));
  }
  if constexpr (std::is_same_v<Load, LoadF32>) {
    float sum = _mm512_reduce_add_ps(acc[0]);
    for (int64_t i = 0; i < rest; ++i) sum = add_product_unfused(sum, tail_w[i], tail_a[i]);
    return sum;
  } else {
    double sum = _mm512_reduce_add_ps(acc[0]);
    for (int64_t i = 0; i < rest; ++i) sum += static_cast<double>(tail_w[i] * tail_a[i]);
    return static_cast<float>(sum);
  }
}

}  // namespace

float dot_f32_avx512(int64_t n, const void* w, const void* a) { return dot_ggml<LoadF32>(n, w, a); }
float dot_f16_avx512(int64_t n, const void* w, const void* a) { return dot_ggml<LoadF16>(n, w, a); }
float dot_bf16_avx512(int64_t n, const void* w, const void* a) { return dot<LoadBF16>(n, w, a); }

}  // namespace sy::kernels
