// Q4_K · Q8_K with AVX2. Per 64-element chunk: low nibbles are one sub-block, high nibbles the next; the
// unsigned codes multiply the signed activations directly (15·127·2 fits int16) and the 6-bit scales are
// applied in the int16 → int32 step, so each super-block's integer sum is exact. The loop is written for
// kRows activation rows at once: prefill decodes each super-block (nibbles, scales) once for several tokens.
#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/quant/simd_decls.h"
#include "kernels/simd/x86.h"

namespace sy::kernels {
namespace {

// The block's eight 6-bit scales (bytes 0-7) and mins (bytes 8-15) as one vector, built in registers.
inline __m128i scale_min_k4_vec(const uint8_t* s) {
  uint32_t packed[4];
  scale_min_k4_all(s, packed);
  return _mm_set_epi32(static_cast<int>(packed[3]), static_cast<int>(packed[2]), static_cast<int>(packed[1]),
                       static_cast<int>(packed[0]));
}

// The tile's lanes (lane l for row l / kTokens, token l % kTokens) from a value per row or per token; lanes past
// kLanes are zero.
template <int kTokens, int kLanes, size_t... l>
__m256 lanes_by_row(const float* per_row, std::index_sequence<l...>) {
  return _mm256_setr_ps((l < kLanes ? per_row[l / kTokens] : 0.0f)...);
}
template <int kTokens, int kLanes, size_t... l>
__m256 lanes_by_token(const float* per_token, std::index_sequence<l...>) {
  return _mm256_setr_ps((l < kLanes ? per_token[l % kTokens] : 0.0f)...);
}

// The horizontal sums of up to four vectors, as the lanes of one (missing vectors count as zero).
template <int kRows>
__m128i hsum_i32_x4(const __m256i* v) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i h01 = _mm256_hadd_epi32(v[0], kRows > 1 ? v[1] : zero);
  const __m256i h23 = kRows > 2 ? _mm256_hadd_epi32(v[2], kRows > 3 ? v[3] : zero) : zero;
  const __m256i h = _mm256_hadd_epi32(h01, h23);  // per 128-bit half: partial sums of rows 0-3
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

// The float order of llama.cpp's repacked Q4_K kernels: its gemv (single tokens, the tokens after the last full
// group of 4, every expert product) makes one fused multiply-add per super-block, its gemm (each full group of 4
// tokens of a dense product) one per pair of sub-blocks (64 elements).
enum class Q4KOrder { kPerBlock, kPerPair };

template <int kRows, Q4KOrder kOrder = Q4KOrder::kPerBlock>
void dot_rows(int64_t n, const void* w, const void* a, size_t a_stride, float* out) {
  constexpr bool kPerPair = kOrder == Q4KOrder::kPerPair;
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y[kRows];
  for (int j = 0; j < kRows; ++j)
    y[j] = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a) + j * a_stride);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  static_assert(kRows <= kAvx2RowsPerPass && (!kPerPair || kRows <= 4));
  float acc[kRows] = {}, acc_min[kRows] = {};                         // one row
  __m128 acc4 = _mm_setzero_ps(), acc_min4 = _mm_setzero_ps();        // up to 4 rows (or per pair), lane j for row j
  __m256 acc8 = _mm256_setzero_ps(), acc_min8 = _mm256_setzero_ps();  // 5 to 8 rows
  alignas(32) float row_d[8] = {};
  // One row: the integer sums of up to 8 blocks wait here, so that one transposing reduction replaces eight
  // horizontal sums; their fused multiply-adds then run in block order, as before.
  constexpr int kGroup = 8;
  __m256i group_sums[kGroup], group_mins[kGroup];
  float group_scale[kGroup], group_scale_min[kGroup];
  int in_group = 0;
  const int64_t n_blocks = n / kQKK;
  for (int64_t i = 0; i < n_blocks; ++i) {
    if constexpr (kRows == 1) prefetch_stream(x + i, sizeof(BlockQ4_K));  // decode streams the weights
    uint32_t packed[4];
    scale_min_k4_all(x[i].scales, packed);
    // The eight sub-block scales as int16, in both 128-bit halves, picked per sub-block by one shuffle.
    const __m256i scales =
        _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed))));
    // bsums are per 16 elements: each sub-block's min multiplies two of them.
    const __m128i m8 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed + 2)));
    const __m256i mins16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
    const float d = f16_scalar(x[i].d), dmin = f16_scalar(x[i].dmin);
    // Lane s: sub-block s's min times its activation sum (bsums are per 16 elements, each min takes two).
    __m256i min_lanes[kRows];
    for (int j = 0; j < kRows; ++j)
      min_lanes[j] = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[j][i].bsums)), mins16);
    __m256i sumi[kRows];
    for (int j = 0; j < kRows; ++j) sumi[j] = _mm256_setzero_si256();
    __m128 pair_scale, pair_scale_min;
    __m128 pair_mins[4];  // per pair of sub-blocks: its min term as a float, lane j for row j
    if constexpr (kPerPair) {
      for (int j = 0; j < kRows; ++j) row_d[j] = y[j][i].d;
      pair_scale = _mm_mul_ps(_mm_set1_ps(d), _mm_load_ps(row_d));
      pair_scale_min = _mm_mul_ps(_mm_set1_ps(dmin), _mm_load_ps(row_d));
      // Adjacent lanes (a pair's two sub-blocks) added, then transposed to rows in lanes: rows01 and rows23 hold
      // per half [row r pair p, row r pair p+1, row r+1 pair p, row r+1 pair p+1], pairs 0-1 in the low half and
      // 2-3 in the high one.
      const __m256i zero = _mm256_setzero_si256();
      const __m256i rows01 =
          _mm256_shuffle_epi32(_mm256_hadd_epi32(min_lanes[0], kRows > 1 ? min_lanes[1] : zero), 0xd8);
      const __m256i rows23 =
          kRows > 2 ? _mm256_shuffle_epi32(_mm256_hadd_epi32(min_lanes[2], kRows > 3 ? min_lanes[3] : zero), 0xd8)
                    : zero;
      const __m256 even = _mm256_cvtepi32_ps(_mm256_unpacklo_epi64(rows01, rows23));  // pairs 0 (low half) and 2 (high)
      const __m256 odd = _mm256_cvtepi32_ps(_mm256_unpackhi_epi64(rows01, rows23));   // pairs 1 and 3
      pair_mins[0] = _mm256_castps256_ps128(even);
      pair_mins[1] = _mm256_castps256_ps128(odd);
      pair_mins[2] = _mm256_extractf128_ps(even, 1);
      pair_mins[3] = _mm256_extractf128_ps(odd, 1);
    }
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * c));
      const __m256i lo = _mm256_and_si256(q, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
      const __m256i sc_lo = _mm256_shuffle_epi8(scales, int16_lane(2 * c));
      const __m256i sc_hi = _mm256_shuffle_epi8(scales, int16_lane(2 * c + 1));
      for (int j = 0; j < kRows; ++j) {
        const int8_t* qa = y[j][i].qs + 64 * c;
        const __m256i p_lo = _mm256_madd_epi16(
            _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qa))), sc_lo);
        const __m256i p_hi = _mm256_madd_epi16(
            _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qa + 32))), sc_hi);
        sumi[j] = kPerPair ? _mm256_add_epi32(p_lo, p_hi) : _mm256_add_epi32(sumi[j], _mm256_add_epi32(p_lo, p_hi));
      }
      if constexpr (kPerPair) {
        acc4 = _mm_fmadd_ps(_mm_cvtepi32_ps(hsum_i32_x4<kRows>(sumi)), pair_scale, acc4);
        acc_min4 = _mm_fmadd_ps(pair_mins[c], pair_scale_min, acc_min4);
      }
    }
    if constexpr (kPerPair) continue;
    // llama.cpp's gemv order for the Q4_K matrices it repacks (single tokens, the tokens after the last full
    // group of 4, and every expert product): one fused multiply-add per super-block of the exact integer sum,
    // scales multiplied first; minimums apart.
    if constexpr (kRows == 1) {
      group_sums[in_group] = sumi[0];
      group_mins[in_group] = min_lanes[0];
      group_scale[in_group] = d * y[0][i].d;
      group_scale_min[in_group] = dmin * y[0][i].d;
      if (++in_group == kGroup || i + 1 == n_blocks) {
        for (int k = in_group; k < kGroup; ++k) group_sums[k] = group_mins[k] = _mm256_setzero_si256();
        alignas(32) float sums[kGroup], mins[kGroup];
        _mm256_store_ps(sums, _mm256_cvtepi32_ps(hsum_i32_x8(group_sums)));
        _mm256_store_ps(mins, _mm256_cvtepi32_ps(hsum_i32_x8(group_mins)));
        for (int k = 0; k < in_group; ++k) {
          acc[0] = std::fma(sums[k], group_scale[k], acc[0]);
          acc_min[0] = std::fma(mins[k], group_scale_min[k], acc_min[0]);
        }
        in_group = 0;
      }
    } else if constexpr (kRows <= 4) {
      // The same fused multiply-adds for all rows at once, lane j for row j: one transposing reduction
      // instead of a horizontal sum per row.
      for (int j = 0; j < kRows; ++j) row_d[j] = y[j][i].d;
      const __m128 da = _mm_load_ps(row_d);
      acc4 = _mm_fmadd_ps(_mm_cvtepi32_ps(hsum_i32_x4<kRows>(sumi)), _mm_mul_ps(_mm_set1_ps(d), da), acc4);
      acc_min4 =
          _mm_fmadd_ps(_mm_cvtepi32_ps(hsum_i32_x4<kRows>(min_lanes)), _mm_mul_ps(_mm_set1_ps(dmin), da), acc_min4);
    } else {
      __m256i sums[8], mins[8];
      for (int j = 0; j < 8; ++j) {
        row_d[j] = j < kRows ? y[j][i].d : 0.0f;
        sums[j] = j < kRows ? sumi[j] : _mm256_setzero_si256();
        mins[j] = j < kRows ? min_lanes[j] : _mm256_setzero_si256();
      }
      const __m256 da = _mm256_load_ps(row_d);
      acc8 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(hsum_i32_x8(sums)), _mm256_mul_ps(_mm256_set1_ps(d), da), acc8);
      acc_min8 =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(hsum_i32_x8(mins)), _mm256_mul_ps(_mm256_set1_ps(dmin), da), acc_min8);
    }
  }
  if constexpr (kRows == 1 && !kPerPair) {
    out[0] = acc[0] - acc_min[0];
  } else if constexpr (kRows > 4) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, _mm256_sub_ps(acc8, acc_min8));
    for (int j = 0; j < kRows; ++j) out[j] = lanes[j];
  } else {
    alignas(16) float lanes[4];
    _mm_store_ps(lanes, _mm_sub_ps(acc4, acc_min4));
    for (int j = 0; j < kRows; ++j) out[j] = lanes[j];
  }
}

// An empty asm that takes v in a register: the sum chain cannot be reassociated across it. Without it GCC turns
// a tile's per-lane chains of integer adds into trees over all the block's products, keeps them all live and
// spills most of them (the 2 × 4 tile ran slower than the per-row kernel).
inline void keep_in_register(__m256i& v) { __asm__("" : "+x"(v)); }

// kRows weight rows × kTokens activation rows per call (kRows·kTokens <= 8), lane r·kTokens + t of the float
// accumulators for (row r, token t). Each lane makes exactly the single-token kernel's float operations, in its
// order: per super-block one fused multiply-add of the exact integer sum by d·d_a, one of the minimum term by
// dmin·d_a, and acc − acc_min at the end, so every output has the bits dot_rows<1> gives it. What the tile shares:
// the eight lanes' block sums are reduced by one transposing reduction (instead of a horizontal sum per token),
// each activation block serves kRows rows while it is in L1, and each row's nibbles are unpacked once for all
// kTokens tokens. out[r · kMaxDotRows + t]. The loops over rows, tokens and chunks are unrolled (pragmas) so that
// the eight lanes' sums live in registers, not in an array on the stack.
template <int kRows, int kTokens>
void dot_tile(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float* out) {
  constexpr int kLanes = kRows * kTokens;
  static_assert(kLanes <= 8);
  const BlockQ4_K* x[kRows];
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r)
    x[r] = reinterpret_cast<const BlockQ4_K*>(static_cast<const uint8_t*>(w) + r * w_stride);
  const BlockQ8_K* y[kTokens];
#pragma GCC unroll 8
  for (int t = 0; t < kTokens; ++t)
    y[t] = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a) + t * a_stride);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
  constexpr auto kLaneIds = std::make_index_sequence<8>{};
  const int64_t n_blocks = n / kQKK;
  for (int64_t i = 0; i < n_blocks; ++i) {
    __m128i packed[kRows];  // scales, then mins, as bytes
    float row_d[kRows], row_dmin[kRows], tok_d[kTokens];
    __m256i lanes[8];  // first the minimum terms, then the block sums
#pragma GCC unroll 8
    for (int l = kLanes; l < 8; ++l) lanes[l] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int t = 0; t < kTokens; ++t) tok_d[t] = y[t][i].d;
#pragma GCC unroll 8
    for (int r = 0; r < kRows; ++r) {
      // Several sequences' decode streams the weights too: the same block of the next tile's row r, one tile ahead
      // (prefetch_stream's fixed distance would mostly land in this tile's own rows, which it is reading already).
      const char* next = reinterpret_cast<const char*>(x[r] + i) + kRows * w_stride;
      for (int off = 0; off < static_cast<int>(sizeof(BlockQ4_K)); off += 64) _mm_prefetch(next + off, _MM_HINT_T1);
      packed[r] = scale_min_k4_vec(x[r][i].scales);
      row_d[r] = f16_scalar(x[r][i].d);
      row_dmin[r] = f16_scalar(x[r][i].dmin);
      const __m128i m8 = _mm_cvtepu8_epi16(_mm_unpackhi_epi64(packed[r], packed[r]));
      const __m256i mins16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
#pragma GCC unroll 8
      for (int t = 0; t < kTokens; ++t)
        lanes[r * kTokens + t] =
            _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[t][i].bsums)), mins16);
    }
    const __m256 da = lanes_by_token<kTokens, kLanes>(tok_d, kLaneIds);
    acc_min = _mm256_fmadd_ps(_mm256_cvtepi32_ps(hsum_i32_x8(lanes)),
                              _mm256_mul_ps(lanes_by_row<kTokens, kLanes>(row_dmin, kLaneIds), da), acc_min);
#pragma GCC unroll 8
    for (int l = 0; l < kLanes; ++l) lanes[l] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int r = 0; r < kRows; ++r) {
      const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(packed[r]));
#pragma GCC unroll 8
      for (int c = 0; c < 4; ++c) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r][i].qs + 32 * c));
        const __m256i lo = _mm256_and_si256(q, low4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
        const __m256i sc_lo = _mm256_shuffle_epi8(scales, int16_lane(2 * c));
        const __m256i sc_hi = _mm256_shuffle_epi8(scales, int16_lane(2 * c + 1));
#pragma GCC unroll 8
        for (int t = 0; t < kTokens; ++t) {
          const int8_t* qa = y[t][i].qs + 64 * c;
          const __m256i p_lo = _mm256_madd_epi16(
              _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qa))), sc_lo);
          const __m256i p_hi = _mm256_madd_epi16(
              _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qa + 32))), sc_hi);
          lanes[r * kTokens + t] = _mm256_add_epi32(lanes[r * kTokens + t], _mm256_add_epi32(p_lo, p_hi));
          keep_in_register(lanes[r * kTokens + t]);
        }
      }
    }
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(hsum_i32_x8(lanes)),
                          _mm256_mul_ps(lanes_by_row<kTokens, kLanes>(row_d, kLaneIds), da), acc);
  }
  alignas(32) float result[8];
  _mm256_store_ps(result, _mm256_sub_ps(acc, acc_min));
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < kTokens; ++t) out[r * kMaxDotRows + t] = result[r * kTokens + t];
}

}  // namespace

void dot_q4_k_q8_k_gemm_avx2(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  in_row_passes<kGemmTokens>(n_act, a, a_stride, out, [&](auto rows, const void* pass_rows, float* pass_out) {
    dot_rows<rows.value, Q4KOrder::kPerPair>(n, w, pass_rows, a_stride, pass_out);
  });
}

float dot_q4_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  float out;
  dot_rows<1>(n, w, a, 0, &out);
  return out;
}

void dot_q4_k_q8_k_multi_avx2(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out) {
  in_row_passes<kAvx2RowsPerPass>(n_act, a, a_stride, out, [&](auto rows, const void* pass_rows, float* pass_out) {
    dot_rows<rows.value>(n, w, pass_rows, a_stride, pass_out);
  });
}

float dot_q4_k_q8_k_plain_avx2(int64_t n, const void* w, const void* a) {
  // llama.cpp's vec_dot for Q4_K weights it does not repack: int32 lane k of the block sum scaled into float
  // accumulator k, the minimums per pair of sub-blocks into four more, negated; both summed at the end.
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_min = _mm_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    uint32_t packed[4];
    scale_min_k4_all(x[i].scales, packed);
    const __m256i scales =
        _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed))));
    const __m128i mins = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed + 2)));
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums));
    // Σ over each sub-block's 32 activations, then lane j: min 2j·Σ 2j + min 2j+1·Σ 2j+1.
    const __m128i sub_sums = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
    const __m128i min_pairs = _mm_madd_epi16(mins, sub_sums);
    acc_min = _mm_fmadd_ps(_mm_set1_ps(-y[i].d * f16_scalar(x[i].dmin)), _mm_cvtepi32_ps(min_pairs), acc_min);
    __m256i sumi = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * c));
      const int8_t* qa = y[i].qs + 64 * c;
      const __m256i p_lo = _mm256_madd_epi16(
          _mm256_maddubs_epi16(_mm256_and_si256(q, low4), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qa))),
          _mm256_shuffle_epi8(scales, int16_lane(2 * c)));
      const __m256i p_hi =
          _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4),
                                                 _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qa + 32))),
                            _mm256_shuffle_epi8(scales, int16_lane(2 * c + 1)));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p_lo, p_hi));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * f16_scalar(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  acc_min = _mm_add_ps(acc_min, _mm_movehl_ps(acc_min, acc_min));
  acc_min = _mm_add_ss(acc_min, _mm_movehdup_ps(acc_min));
  return hsum(acc) + _mm_cvtss_f32(acc_min);
}

void dot_q4_k_q8_k_tile_avx2(int64_t n, const void* w, size_t w_stride, int n_rows, const void* a, size_t a_stride,
                             int n_act, float* out) {
  // As many rows per pass as fill the eight lanes (at most kTileRows).
  const int rows_per_pass = std::clamp(8 / n_act, 1, kTileRows);
  with_row_count(n_act, [&](auto tokens) {
    for (int r = 0; r < n_rows; r += rows_per_pass) {
      const void* pass_w = static_cast<const uint8_t*>(w) + static_cast<size_t>(r) * w_stride;
      with_row_count(std::min(rows_per_pass, n_rows - r), [&](auto rows) {
        if constexpr (rows.value <= kTileRows && rows.value * tokens.value <= 8)
          dot_tile<rows.value, tokens.value>(n, pass_w, w_stride, a, a_stride, out + r * kMaxDotRows);
      });
    }
  });
}

}  // namespace sy::kernels
