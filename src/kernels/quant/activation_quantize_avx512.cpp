// Activation converters with AVX-512: Q8_0, Q8_1, Q8_K, F16 and BF16. Each is bit-exact with its type's scalar
// quantize_row (same products, ties to even, same choice of the maximum), which the tests check; only speed
// differs. Prefill converts every token once per matmul, decode once per matrix.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/quant/blocks.h"
#include "kernels/quant/simd_decls.h"

namespace sy::kernels {
namespace {

constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

uint16_t to_f16(float f) {
  return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}

// 16 floats × id, rounded half to even, as int32.
__m512i scale_round(__m512 v, __m512 id) {
  return _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v, id), kRound));
}

}  // namespace

void quantize_q8_0_avx512(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    const __m512 v0 = _mm512_loadu_ps(src), v1 = _mm512_loadu_ps(src + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    b[i].d = to_f16(amax / 127.f);
    const __m512 id = _mm512_set1_ps(amax != 0.f ? 127.f / amax : 0.f);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs), _mm512_cvtsepi32_epi8(scale_round(v0, id)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs + 16), _mm512_cvtsepi32_epi8(scale_round(v1, id)));
  }
}

void quantize_q8_1_avx512(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    const __m512 v0 = _mm512_loadu_ps(src), v1 = _mm512_loadu_ps(src + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 127.f;
    const __m512 id = _mm512_set1_ps(amax != 0.f ? 127.f / amax : 0.f);
    const __m512i q0 = scale_round(v0, id), q1 = scale_round(v1, id);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs), _mm512_cvtsepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs + 16), _mm512_cvtsepi32_epi8(q1));
    b[i].d = to_f16(d);
    b[i].s = to_f16(d * static_cast<float>(_mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1))));
  }
}

void quantize_q8_k_avx512(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    __m512 vmax = _mm512_setzero_ps();
    for (int j = 0; j < kQKK; j += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(src + j)));
    const float amax = _mm512_reduce_max_ps(vmax);
    if (amax == 0.f) {
      std::memset(&b[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    // The scalar quantiser keeps the first element whose magnitude is the maximum, with its sign.
    float max = 0.f;
    for (int j = 0; j < kQKK; j += 16) {
      const __mmask16 hit =
          _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(src + j)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
      if (hit) {
        max = src[j + __builtin_ctz(hit)];
        break;
      }
    }
    const float iscale = -127.f / max;
    const __m512 vs = _mm512_set1_ps(iscale);
    for (int g = 0; g < 16; ++g) {
      const __m512i q = _mm512_min_epi32(scale_round(_mm512_loadu_ps(src + 16 * g), vs), _mm512_set1_epi32(127));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs + 16 * g), _mm512_cvtsepi32_epi8(q));
      b[i].bsums[g] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
    b[i].d = 1.f / iscale;
  }
}

void quantize_f16_avx512(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + i),
                        _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) h[i] = to_f16(src[i]);
}

// Round to nearest even on the bit pattern (as fp32_to_bf16; VCVTNEPS2BF16 would flush subnormals).
void quantize_bf16_avx512(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i x = _mm512_castps_si512(_mm512_loadu_ps(src + i));
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    const __m512i rounded =
        _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff))), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, abs_mask), inf);
    const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(64));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + i),
                        _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(rounded, nan, quiet)));
  }
  for (; i < n; ++i) {
    uint32_t x;
    std::memcpy(&x, src + i, 4);
    h[i] = (x & 0x7fffffffu) > 0x7f800000u ? static_cast<uint16_t>((x >> 16) | 64)
                                           : static_cast<uint16_t>((x + (0x7fffu + ((x >> 16) & 1u))) >> 16);
  }
}

}  // namespace sy::kernels
