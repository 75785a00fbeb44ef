// F32, F16 and BF16 dot products with AVX2 (+FMA, F16C). F32 and F16 follow llama.cpp's AVX-512 build lane for
// lane (simd/f32x16.h), since its results are the reference: ggml_vec_dot_f32/_f16 (four 16-lane accumulators
// over 64 values, folded 0+2, 1+3, then 0+1, reduced, the remainder added one product at a time) for single
// rows, and tinyBLAS (one 16-lane accumulator per output) for the batched products it serves (multi-row).
// BF16 keeps its own order: the reference's BF16 path uses AVX512-BF16 instructions.
#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstdint>

#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/f32x16.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {

// Loads 8 elements as f32.
struct LoadF32 {
  static __m256 load(const void* p, int64_t i) { return _mm256_loadu_ps(static_cast<const float*>(p) + i); }
  static float one(const void* p, int64_t i) { return static_cast<const float*>(p)[i]; }
};
struct LoadF16 {
  static __m256 load(const void* p, int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i)));
  }
  static float one(const void* p, int64_t i) { return _cvtsh_ss(static_cast<const uint16_t*>(p)[i]); }
};
struct LoadBF16 {
  static __m256 load(const void* p, int64_t i) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float one(const void* p, int64_t i) {
    return std::bit_cast<float>(static_cast<uint32_t>(static_cast<const uint16_t*>(p)[i]) << 16);
  }
};

template <typename Load>
F32x16 load16(const void* p, int64_t i) {
  return {Load::load(p, i), Load::load(p, i + 8)};
}

// ggml_vec_dot_f32 / ggml_vec_dot_f16 in their AVX-512 order. F32 keeps the running sum in float and adds the
// remainder's products rounded, not fused (checked against the references: attention scores over 16- and
// 32-value heads are all remainder); F16 keeps the sum in double.
template <typename Load>
float dot_ggml(int64_t n, const void* w, const void* a) {
  constexpr bool kF32 = std::is_same_v<Load, LoadF32>;
  F32x16 acc[4] = {f32x16_zero(), f32x16_zero(), f32x16_zero(), f32x16_zero()};
  const int64_t n64 = n & ~int64_t{63};
  for (int64_t i = 0; i < n64; i += 64)
    for (int r = 0; r < 4; ++r) acc[r] = f32x16_fma(load16<Load>(w, i + 16 * r), load16<Load>(a, i + 16 * r), acc[r]);
  acc[0] = f32x16_add(acc[0], acc[2]);
  acc[1] = f32x16_add(acc[1], acc[3]);
  acc[0] = f32x16_add(acc[0], acc[1]);
  if constexpr (kF32) {
    float sum = f32x16_reduce(acc[0]);
    for (int64_t i = n64; i < n; ++i) sum = add_product_unfused(sum, Load::one(w, i), Load::one(a, i));
    return sum;
  } else {
    double sum = f32x16_reduce(acc[0]);
    for (int64_t i = n64; i < n; ++i) sum += static_cast<double>(Load::one(w, i) * Load::one(a, i));
    return static_cast<float>(sum);
  }
}

// Rows per pass: a row's 16-lane accumulator takes two registers, so four rows (measured: eight ran 25 % slower).
constexpr int kRowsPerPass = 4;

// tinyBLAS: one 16-lane accumulator per output over k in steps of 16, then the lane tree. It serves only
// k % 16 == 0; otherwise ggml falls back to its vec_dot for every output.
template <typename Load>
void dot_ggml_multi(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  auto act = [&](int j) { return static_cast<const uint8_t*>(a) + static_cast<size_t>(j) * a_stride; };
  if (n % 16 != 0) {
    for (int j = 0; j < n_act; ++j) out[j] = dot_ggml<Load>(n, w, act(j));
    return;
  }
  in_row_passes<kRowsPerPass>(n_act, a, a_stride, out, [&](auto rows, const void* pass, float* pass_out) {
    constexpr int R = rows.value;
    F32x16 acc[R];
    for (int j = 0; j < R; ++j) acc[j] = f32x16_zero();
    for (int64_t i = 0; i < n; i += 16) {
      const F32x16 wv = load16<Load>(w, i);
      for (int j = 0; j < R; ++j)
        acc[j] = f32x16_fma(wv, load16<Load>(static_cast<const uint8_t*>(pass) + j * a_stride, i), acc[j]);
    }
    for (int j = 0; j < R; ++j) pass_out[j] = f32x16_reduce(acc[j]);
  });
}

template <typename Load>
float dot(int64_t n, const void* w, const void* a) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int r = 0; r < 4; ++r) acc[r] = _mm256_fmadd_ps(Load::load(w, i + 8 * r), Load::load(a, i + 8 * r), acc[r]);
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(Load::load(w, i), Load::load(a, i), acc[0]);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += Load::one(w, i) * Load::one(a, i);
  return sum;
}

}  // namespace

float dot_f32_avx2(int64_t n, const void* w, const void* a) { return dot_ggml<LoadF32>(n, w, a); }
float dot_f16_avx2(int64_t n, const void* w, const void* a) { return dot_ggml<LoadF16>(n, w, a); }
float dot_bf16_avx2(int64_t n, const void* w, const void* a) { return dot<LoadBF16>(n, w, a); }
void dot_f32_multi_avx2(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  dot_ggml_multi<LoadF32>(n, w, a, a_stride, n_act, out);
}
void dot_f16_multi_avx2(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  dot_ggml_multi<LoadF16>(n, w, a, a_stride, n_act, out);
}

}  // namespace sy::kernels
