// The shared loop of the 32-element formats that take Q8_0 activations (Q4_0, Q5_0, Q8_0, MXFP4). Each type's
// per-ISA file supplies only how to decode one block into 32 weight bytes; this loop does the integer dot
// product per block and the float scaling. Included only by *_avx2.cpp / *_avx512vnni.cpp files.
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {  // NOLINT: one copy per ISA, see simd/x86.h

#if defined(__AVX2__)
// Decoder: static __m256i signed_codes(const Block&) (int8 weights, any value), static float scale(const Block&),
// and static constexpr bool kWholeBlockSums, the float order llama.cpp uses for the type on x86 (STYLE.md: one
// place per policy). false: each int32 lane (4 products) of a block is scaled into its own float accumulator,
// the eight summed at the end (its vec_dot and tinyBLAS for Q8_0, Q5_0). true: the block's integer sum is
// scaled into one float (its repacked 8x8 kernels, which Q4_0 and MXFP4 weights run through).
template <typename Block, typename Decoder, int kRows>
void dot_q32_q8_0_rows_avx2(int64_t n, const void* w, const void* a, size_t a_stride, float* out) {
  const auto* x = static_cast<const Block*>(w);
  const BlockQ8_0* y[kRows];
  for (int j = 0; j < kRows; ++j)
    y[j] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + j * a_stride);
  const int64_t nb = n / kQK;
  __m256 acc[kRows];
  float acc_scalar[kRows] = {};
  for (int j = 0; j < kRows; ++j) acc[j] = _mm256_setzero_ps();
  int64_t i = 0;
  if constexpr (Decoder::kWholeBlockSums) {
    // Eight blocks at a time: their integer sums transposed into one vector by a tree of horizontal adds, a
    // third of the work of a horizontal sum per block; the fused multiply-adds stay one per block, in order.
    for (; i + 8 <= nb; i += 8) {
      __m256i block_sums[kRows][8];
      float scales[kRows][8];
      for (int b = 0; b < 8; ++b) {
        prefetch_stream(x + i + b, sizeof(Block));  // decode streams the weights, for one sequence or several
        const __m256i codes = Decoder::signed_codes(x[i + b]);
        const __m256i magnitude = _mm256_sign_epi8(codes, codes);
        const float dw = Decoder::scale(x[i + b]);
        for (int j = 0; j < kRows; ++j) {
          const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[j][i + b].qs));
          block_sums[j][b] =
              _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(qa, codes)), _mm256_set1_epi16(1));
          scales[j][b] = dw * f16_scalar(y[j][i + b].d);
        }
      }
      for (int j = 0; j < kRows; ++j) {
        alignas(32) float sums[8];
        _mm256_store_ps(sums, _mm256_cvtepi32_ps(hsum_i32_x8(block_sums[j])));
        for (int b = 0; b < 8; ++b) acc_scalar[j] = std::fma(sums[b], scales[j][b], acc_scalar[j]);
      }
    }
  }
  for (; i < nb; ++i) {
    prefetch_stream(x + i, sizeof(Block));  // decode streams the weights, for one sequence or several
    const __m256i codes = Decoder::signed_codes(x[i]);
    const __m256i magnitude = _mm256_sign_epi8(codes, codes);
    const float dw = Decoder::scale(x[i]);
    for (int j = 0; j < kRows; ++j) {
      // |w|·(sign(w)·a) per byte, summed per 4 bytes: the sign trick of dot_i8x4 with |w| computed once.
      const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[j][i].qs));
      const __m256i p =
          _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(qa, codes)), _mm256_set1_epi16(1));
      const float d = dw * f16_scalar(y[j][i].d);
      if constexpr (Decoder::kWholeBlockSums)
        acc_scalar[j] = std::fma(static_cast<float>(hsum_i32(p)), d, acc_scalar[j]);
      else
        acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc[j]);
    }
  }
  for (int j = 0; j < kRows; ++j) out[j] = Decoder::kWholeBlockSums ? acc_scalar[j] : hsum(acc[j]);
}

template <typename Block, typename Decoder>
float dot_q32_q8_0_avx2(int64_t n, const void* w, const void* a) {
  float out;
  dot_q32_q8_0_rows_avx2<Block, Decoder, 1>(n, w, a, 0, &out);
  return out;
}

// Up to kMaxDotRows activation rows, kAvx2RowsPerPass per pass.
template <typename Block, typename Decoder>
void dot_q32_q8_0_multi_avx2(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  in_row_passes<kAvx2RowsPerPass>(n_act, a, a_stride, out, [&](auto rows, const void* pass_rows, float* pass_out) {
    dot_q32_q8_0_rows_avx2<Block, Decoder, rows.value>(n, w, pass_rows, a_stride, pass_out);
  });
}
#endif

#if defined(__AVX512VNNI__)
// Blocks that start with their f16 scale `d` (Q4_0, Q5_0, Q8_0; not MXFP4).
template <typename Block>
constexpr bool f16_scale_first() {
  if constexpr (requires(const Block& b) { requires std::is_same_v<std::remove_cvref_t<decltype(b.d)>, uint16_t>; })
    return offsetof(Block, d) == 0;
  else
    return false;
}
template <typename Block>
constexpr bool kF16ScaleFirst = f16_scale_first<Block>();

// A pair of weight blocks in the form vpdpbusd takes, which multiplies unsigned by signed bytes. Decoders with
// raw signed codes (Q8_0: static __m256i signed_codes(const Block&)) give u = |w| and the mask of negative w,
// which moves w's sign onto the activations (a = −128 never occurs: activations are within ±127, and |−128|
// is byte 0x80 = 128 unsigned). Others give unsigned codes u = w + 2^kOffsetShift, the offset taken off
// through Σ a. Both integer sums are exact, so the two forms give the same numbers; the first costs two
// operations per activation pair instead of four.
template <typename Decoder>
concept SignedCodes = requires {
  Decoder::kSignedCodes;
};

struct WeightPair {
  __m512i u;
  __mmask64 negative = 0;
};

template <typename Decoder, typename Block>
inline WeightPair decode_pair(const Block& b0, const Block& b1) {
  if constexpr (SignedCodes<Decoder>) {
    const __m512i w =
        _mm512_inserti64x4(_mm512_castsi256_si512(Decoder::signed_codes(b0)), Decoder::signed_codes(b1), 1);
    return {_mm512_abs_epi8(w), _mm512_movepi8_mask(w)};
  } else {
    return {_mm512_inserti64x4(_mm512_castsi256_si512(Decoder::unsigned_codes(b0)), Decoder::unsigned_codes(b1), 1)};
  }
}

// Two blocks' Σ w·a per group of 4 (16 int32 lanes).
template <typename Decoder>
inline __m512i pair_dot(const WeightPair& w, __m512i q) {
  if constexpr (SignedCodes<Decoder>) {
    const __m512i signed_q = _mm512_mask_sub_epi8(q, w.negative, _mm512_setzero_si512(), q);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), w.u, signed_q);
  } else {
    const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w.u, q);
    const __m512i sum_q = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(1), q);
    return _mm512_sub_epi32(dot, _mm512_slli_epi32(sum_q, Decoder::kOffsetShift));
  }
}

// One block's Σ w·a (the odd block at a row's end).
template <typename Decoder, typename Block>
inline int block_dot(const Block& b, const int8_t* qs) {
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs));
  if constexpr (SignedCodes<Decoder>) {
    const __m256i w = Decoder::signed_codes(b);
    const __m256i signed_q = _mm256_mask_sub_epi8(q, _mm256_movepi8_mask(w), _mm256_setzero_si256(), q);
    return hsum_i32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(w), signed_q));
  } else {
    const __m256i dot = _mm256_dpbusd_epi32(_mm256_setzero_si256(), Decoder::unsigned_codes(b), q);
    const __m256i sum_q = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1), q);
    return hsum_i32(dot) - hsum_i32(sum_q) * (1 << Decoder::kOffsetShift);
  }
}

// Two blocks per 512-bit register, in the form decode_pair gives. Decoder: static float scale(const Block&), and
// either static __m256i signed_codes(const Block&) with kSignedCodes, or static __m256i unsigned_codes(const
// Block&) with static constexpr int kOffsetShift.
template <typename Block, typename Decoder>
float dot_q32_q8_0_avx512vnni(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const int64_t nb = n / kQK;
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  if constexpr (kF16ScaleFirst<Block>) {
    // Eight blocks at a time with their scales converted together: two gathers and two vector conversions
    // instead of sixteen scalar f16 conversions, which cost more than the integer work. Same products, same
    // lanes, same order as the pairwise loop below, so the result is bit-identical.
    const __m256i block_offsets = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i offsets = _mm256_mullo_epi32(block_offsets, _mm256_set1_epi32(static_cast<int>(sizeof(Block))));
    const __m256i offsets_y = _mm256_mullo_epi32(block_offsets, _mm256_set1_epi32(static_cast<int>(sizeof(BlockQ8_0))));
    __m512i pick[4];  // pair p of the eight: block 2p's scale in lanes 0-7, 2p+1's in lanes 8-15
    for (int p = 0; p < 4; ++p) pick[p] = _mm512_inserti64x4(_mm512_set1_epi32(2 * p), _mm256_set1_epi32(2 * p + 1), 1);
    for (; i + 8 <= nb; i += 8) {
      prefetch_stream(x + i, 8 * sizeof(Block));
      // Each 32-bit gather reads a block's f16 scale and the two bytes after it; the low half is the scale.
      const __m256i dw = _mm256_i32gather_epi32(reinterpret_cast<const int*>(x + i), offsets, 1);
      const __m256i da = _mm256_i32gather_epi32(reinterpret_cast<const int*>(y + i), offsets_y, 1);
      const __m512 scales = _mm512_castps256_ps512(
          _mm256_mul_ps(_mm256_cvtph_ps(_mm256_cvtepi32_epi16(dw)), _mm256_cvtph_ps(_mm256_cvtepi32_epi16(da))));
      for (int p = 0; p < 4; ++p) {
        const int64_t b = i + 2 * p;
        const WeightPair u = decode_pair<Decoder>(x[b], x[b + 1]);
        const __m512i isum = pair_dot<Decoder>(u, load_2x256(y[b].qs, y[b + 1].qs));
        acc = _mm512_fmadd_ps(_mm512_permutexvar_ps(pick[p], scales), _mm512_cvtepi32_ps(isum), acc);
      }
    }
  }
  for (; i + 1 < nb; i += 2) {
    prefetch_stream(x + i, 2 * sizeof(Block));
    const WeightPair u = decode_pair<Decoder>(x[i], x[i + 1]);
    const __m512i isum = pair_dot<Decoder>(u, load_2x256(y[i].qs, y[i + 1].qs));
    const __m512 d =
        set_2x8(Decoder::scale(x[i]) * f16_scalar(y[i].d), Decoder::scale(x[i + 1]) * f16_scalar(y[i + 1].d));
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(isum), acc);
  }
  float sum = _mm512_reduce_add_ps(acc);
  if (i < nb) sum += Decoder::scale(x[i]) * f16_scalar(y[i].d) * static_cast<float>(block_dot<Decoder>(x[i], y[i].qs));
  return sum;
}

// The same for up to kMaxDotRows activation rows: each pair of weight blocks is decoded once.
template <typename Block, typename Decoder, int kRows>
void dot_q32_q8_0_rows_avx512vnni(int64_t n, const void* w, const void* a, size_t a_stride, float* out) {
  const auto* x = static_cast<const Block*>(w);
  const BlockQ8_0* y[kRows];
  for (int j = 0; j < kRows; ++j)
    y[j] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + j * a_stride);
  const int64_t nb = n / kQK;
  __m512 acc[kRows];
  for (int j = 0; j < kRows; ++j) acc[j] = _mm512_setzero_ps();
  int64_t i = 0;
  if constexpr (kF16ScaleFirst<Block>) {
    // Eight blocks at a time, scales converted by vector as in the single-row loop; bit-identical to the
    // pairwise loop below.
    const __m256i block_offsets = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i offsets = _mm256_mullo_epi32(block_offsets, _mm256_set1_epi32(static_cast<int>(sizeof(Block))));
    const __m256i offsets_y = _mm256_mullo_epi32(block_offsets, _mm256_set1_epi32(static_cast<int>(sizeof(BlockQ8_0))));
    __m512i pick[4];
    for (int p = 0; p < 4; ++p) pick[p] = _mm512_inserti64x4(_mm512_set1_epi32(2 * p), _mm256_set1_epi32(2 * p + 1), 1);
    for (; i + 8 <= nb; i += 8) {
      const __m256 dw = _mm256_cvtph_ps(
          _mm256_cvtepi32_epi16(_mm256_i32gather_epi32(reinterpret_cast<const int*>(x + i), offsets, 1)));
      __m512 scales[kRows];
      for (int j = 0; j < kRows; ++j)
        scales[j] =
            _mm512_castps256_ps512(_mm256_mul_ps(dw, _mm256_cvtph_ps(_mm256_cvtepi32_epi16(_mm256_i32gather_epi32(
                                                         reinterpret_cast<const int*>(y[j] + i), offsets_y, 1)))));
      for (int p = 0; p < 4; ++p) {
        const int64_t b = i + 2 * p;
        const WeightPair u = decode_pair<Decoder>(x[b], x[b + 1]);
        for (int j = 0; j < kRows; ++j) {
          const __m512i isum = pair_dot<Decoder>(u, load_2x256(y[j][b].qs, y[j][b + 1].qs));
          acc[j] = _mm512_fmadd_ps(_mm512_permutexvar_ps(pick[p], scales[j]), _mm512_cvtepi32_ps(isum), acc[j]);
        }
      }
    }
  }
  for (; i + 1 < nb; i += 2) {
    const WeightPair u = decode_pair<Decoder>(x[i], x[i + 1]);
    const float d0 = Decoder::scale(x[i]), d1 = Decoder::scale(x[i + 1]);
    for (int j = 0; j < kRows; ++j) {
      const __m512i isum = pair_dot<Decoder>(u, load_2x256(y[j][i].qs, y[j][i + 1].qs));
      const __m512 d = set_2x8(d0 * f16_scalar(y[j][i].d), d1 * f16_scalar(y[j][i + 1].d));
      acc[j] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(isum), acc[j]);
    }
  }
  for (int j = 0; j < kRows; ++j) {
    out[j] = _mm512_reduce_add_ps(acc[j]);
    if (i < nb)
      out[j] += Decoder::scale(x[i]) * f16_scalar(y[j][i].d) * static_cast<float>(block_dot<Decoder>(x[i], y[j][i].qs));
  }
}

template <typename Block, typename Decoder>
void dot_q32_q8_0_multi_avx512vnni(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  with_row_count(n_act,
                 [&](auto rows) { dot_q32_q8_0_rows_avx512vnni<Block, Decoder, rows.value>(n, w, a, a_stride, out); });
}
#endif

}  // namespace
}  // namespace sy::kernels
