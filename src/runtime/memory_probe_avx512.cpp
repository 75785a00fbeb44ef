// AVX-512 read loops of the bandwidth probe: four independent 512-bit accumulators, one 256-byte block a step,
// with or without software prefetch.
#include <immintrin.h>

#include "runtime/memory_probe.h"

namespace sy::runtime::detail {

namespace {

template <bool kPrefetch>
uint64_t read_sum(const std::byte* p, size_t n) {
  __m512i acc[4];
  for (__m512i& a : acc) a = _mm512_setzero_si512();
  for (size_t i = 0; i < n; i += kReadBlock) {
    const auto* v = reinterpret_cast<const __m512i*>(p + i);
    if constexpr (kPrefetch)
      for (size_t line = 0; line < kReadBlock; line += 64)
        _mm_prefetch(reinterpret_cast<const char*>(p + i + kReadPrefetchBytes + line), _MM_HINT_T0);
    for (int j = 0; j < 4; ++j) acc[j] = _mm512_add_epi64(acc[j], _mm512_load_si512(v + j));
  }
  acc[0] = _mm512_add_epi64(_mm512_add_epi64(acc[0], acc[1]), _mm512_add_epi64(acc[2], acc[3]));
  // Not _mm512_reduce_add_epi64: GCC sums its lanes as signed integers, which overflow (UBSan) where ours wrap.
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(reinterpret_cast<__m512i*>(lanes), acc[0]);
  uint64_t sum = 0;
  for (const uint64_t lane : lanes) sum += lane;
  return sum;
}

}  // namespace

uint64_t read_sum_avx512(const std::byte* p, size_t n) { return read_sum<false>(p, n); }
uint64_t read_sum_avx512_prefetch(const std::byte* p, size_t n) { return read_sum<true>(p, n); }

}  // namespace sy::runtime::detail
