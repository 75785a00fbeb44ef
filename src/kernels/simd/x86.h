// Small x86 SIMD building blocks for the per-ISA kernel files (*_avx2.cpp, *_avx512*.cpp). Everything here has
// internal linkage: each ISA's file gets its own copy compiled with its own flags, so an AVX-512 body can never
// be picked by the linker for an AVX2 caller.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace sy::kernels {
namespace {  // NOLINT(cert-dcl59-cpp, google-build-namespaces): per-ISA copies are the point

// Decode streams every weight from memory once. One core's hardware prefetcher alone keeps too few misses in
// flight to overlap them with the dot-product arithmetic (a Q4_K row ran at ~60 % of what either memory or
// the kernel manage alone), so the decode kernels (one token or several) prefetch this far ahead of the blocks they are
// on, the lines of each step's blocks. Rows of a matrix are contiguous, so running past a row's end warms the next one.
// 4 KiB measured best on the 2-core test machines (2-8 KiB within noise; 1 KiB and none clearly worse).
constexpr int kStreamPrefetchBytes = 4096;

// Prefetches the `bytes` bytes that lie kStreamPrefetchBytes beyond p into L2, a line at a time.
inline void prefetch_stream(const void* p, int bytes) {
  const char* ahead = static_cast<const char*>(p) + kStreamPrefetchBytes;
  for (int off = 0; off < bytes; off += 64) _mm_prefetch(ahead + off, _MM_HINT_T1);
}

#if defined(__AVX2__)
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Activation rows an AVX2 multi-row kernel takes per pass: each weight block is decoded once per pass, and eight
// rows' accumulators (one register each) still leave room in the 16 ymm registers for the decoded block.
constexpr int kAvx2RowsPerPass = 8;

// Shuffle control that spreads int16 lane k of each 128-bit half over all eight lanes of that half.
inline __m256i int16_lane(int k) { return _mm256_set1_epi16(static_cast<int16_t>((2 * k) | ((2 * k + 1) << 8))); }

// The horizontal sums of eight vectors, lane k holding v[k]'s.
inline __m256i hsum_i32_x8(const __m256i* v) {
  const __m256i ab = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
  const __m256i cd = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
  // Per 128-bit half: the partial sums of v[0..3] (ab) and v[4..7] (cd); add the halves.
  return _mm256_add_epi32(_mm256_permute2x128_si256(ab, cd, 0x20), _mm256_permute2x128_si256(ab, cd, 0x31));
}

inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

inline float f16_scalar(uint16_t h) { return _cvtsh_ss(h); }

// sum + x·y with the product rounded first. Written with intrinsics because plain `sum + x * y` may be fused
// into one FMA by the compiler in files built for FMA.
inline float add_product_unfused(float sum, float x, float y) {
  return _mm_cvtss_f32(_mm_add_ss(_mm_set_ss(sum), _mm_mul_ss(_mm_set_ss(x), _mm_set_ss(y))));
}

// Σ of x·y over each group of 4 bytes, as 8 int32: x and y signed, y never −128 (activations are within ±127),
// which is what makes the sign trick exact: |x|·(sign(x)·y) with |x| read as unsigned.
inline __m256i dot_i8x4(__m256i x, __m256i y) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

// 32 nibbles from 16 bytes: low nibbles first (elements 0..15), then high nibbles (16..31).
inline __m256i nibbles_32(const uint8_t* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// 32 bits to 32 bytes: 0xff where the bit is set (bit j → byte j).
inline __m256i bits_to_bytes_32(uint32_t bits) {
  const __m256i shuffle = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuffle);
  const __m256i bit = _mm256_set1_epi64x(0x8040201008040201);
  return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
}
#endif

#if defined(__AVX512F__)
inline __m512i load_2x256(const void* lo, const void* hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(static_cast<const __m256i*>(lo))),
                            _mm256_loadu_si256(static_cast<const __m256i*>(hi)), 1);
}

inline __m512 set_2x8(float lo, float hi) { return _mm512_insertf32x8(_mm512_set1_ps(lo), _mm256_set1_ps(hi), 1); }
#endif

}  // namespace
}  // namespace sy::kernels
