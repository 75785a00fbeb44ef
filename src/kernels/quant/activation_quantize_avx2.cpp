// Activation converters with AVX2 (+F16C): Q8_0, Q8_1, Q8_K, F16 and BF16, bit-exact with the scalar ones
// (tested), for CPUs without AVX-512.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/quant/blocks.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {

constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

uint16_t to_f16(float f) {
  return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}

__m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), v); }

float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// 8 floats × s, rounded half to even, as int32.
__m256i scale_round(__m256 v, __m256 s) { return _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v, s), kRound)); }

// 32 int32 (within ±127) to 32 int8 in order: the packs work per 128-bit lane, the permute restores the order.
__m256i pack_32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
  return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Shared by Q8_0 and Q8_1: quantises one block of 32 and returns Σq.
int quantize_block_32(const float* src, int8_t* qs, float& d) {
  const __m256 v[4] = {_mm256_loadu_ps(src), _mm256_loadu_ps(src + 8), _mm256_loadu_ps(src + 16),
                       _mm256_loadu_ps(src + 24)};
  const float amax =
      hmax(_mm256_max_ps(_mm256_max_ps(abs_ps(v[0]), abs_ps(v[1])), _mm256_max_ps(abs_ps(v[2]), abs_ps(v[3]))));
  d = amax / 127.f;
  const __m256 id = _mm256_set1_ps(amax != 0.f ? 127.f / amax : 0.f);
  __m256i q[4];
  for (int k = 0; k < 4; ++k) q[k] = scale_round(v[k], id);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), pack_32(q[0], q[1], q[2], q[3]));
  return hsum_i32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
}

}  // namespace

void quantize_q8_0_avx2(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float d;
    quantize_block_32(src, b[i].qs, d);
    b[i].d = to_f16(d);
  }
}

void quantize_q8_1_avx2(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float d;
    const int sum = quantize_block_32(src, b[i].qs, d);
    b[i].d = to_f16(d);
    b[i].s = to_f16(d * static_cast<float>(sum));
  }
}

void quantize_q8_k_avx2(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    __m256 vmax = _mm256_setzero_ps();
    for (int j = 0; j < kQKK; j += 8) vmax = _mm256_max_ps(vmax, abs_ps(_mm256_loadu_ps(src + j)));
    const float amax = hmax(vmax);
    if (amax == 0.f) {
      std::memset(&b[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    // The scalar quantiser keeps the first element whose magnitude is the maximum, with its sign.
    float max = 0.f;
    for (int j = 0; j < kQKK; j += 8) {
      const int hit =
          _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(src + j)), _mm256_set1_ps(amax), _CMP_EQ_OQ));
      if (hit) {
        max = src[j + __builtin_ctz(static_cast<unsigned>(hit))];
        break;
      }
    }
    const float iscale = -127.f / max;
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i cap = _mm256_set1_epi32(127);
    for (int g = 0; g < 16; g += 2) {  // two groups of 16 per 32 bytes
      __m256i q[4];
      for (int k = 0; k < 4; ++k) q[k] = _mm256_min_epi32(scale_round(_mm256_loadu_ps(src + 16 * g + 8 * k), vs), cap);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs + 16 * g), pack_32(q[0], q[1], q[2], q[3]));
      b[i].bsums[g] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(q[0], q[1])));
      b[i].bsums[g + 1] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(q[2], q[3])));
    }
    b[i].d = 1.f / iscale;
  }
}

void quantize_f16_avx2(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) h[i] = to_f16(src[i]);
}

// Round to nearest even on the bit pattern, NaNs made quiet, as fp32_to_bf16.
void quantize_bf16_avx2(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i x = _mm256_castps_si256(_mm256_loadu_ps(src + i));
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    const __m256i rounded =
        _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7fff))), 16);
    const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);  // signed compare is fine: both ≥ 0
    const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(64));
    const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);
    // 8 int32 (each < 2^16) to 8 uint16.
    const __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i), packed);
  }
  for (; i < n; ++i) {
    uint32_t x;
    std::memcpy(&x, src + i, 4);
    h[i] = (x & 0x7fffffffu) > 0x7f800000u ? static_cast<uint16_t>((x >> 16) | 64)
                                           : static_cast<uint16_t>((x + (0x7fffu + ((x >> 16) & 1u))) >> 16);
  }
}

}  // namespace sy::kernels
