// F32, F16 and BF16 dot products with AVX2 (+FMA, F16C): convert to f32 and accumulate in 4 independent
// registers to hide the FMA latency.
#include <immintrin.h>

#include <bit>
#include <cstdint>

#include "kernels/quant/simd_decls.h"
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

float dot_f32_avx2(int64_t n, const void* w, const void* a) { return dot<LoadF32>(n, w, a); }
float dot_f16_avx2(int64_t n, const void* w, const void* a) { return dot<LoadF16>(n, w, a); }
float dot_bf16_avx2(int64_t n, const void* w, const void* a) { return dot<LoadBF16>(n, w, a); }

}  // namespace sy::kernels
