// AVX2 read loops of the bandwidth probe: eight independent 256-bit accumulators keep many loads in flight,
// with or without software prefetch.
#include <immintrin.h>

#include "runtime/memory_probe.h"

namespace sy::runtime::detail {

namespace {

template <bool kPrefetch>
uint64_t read_sum(const std::byte* p, size_t n) {
  __m256i acc[8];
  for (__m256i& a : acc) a = _mm256_setzero_si256();
  for (size_t i = 0; i < n; i += kReadBlock) {
    const auto* v = reinterpret_cast<const __m256i*>(p + i);
    if constexpr (kPrefetch)
      for (size_t line = 0; line < kReadBlock; line += 64)
        _mm_prefetch(reinterpret_cast<const char*>(p + i + kReadPrefetchBytes + line), _MM_HINT_T0);
    for (int j = 0; j < 8; ++j) acc[j] = _mm256_add_epi64(acc[j], _mm256_load_si256(v + j));
  }
  for (int j = 1; j < 8; ++j) acc[0] = _mm256_add_epi64(acc[0], acc[j]);
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc[0]);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

}  // namespace

uint64_t read_sum_avx2(const std::byte* p, size_t n) { return read_sum<false>(p, n); }
uint64_t read_sum_avx2_prefetch(const std::byte* p, size_t n) { return read_sum<true>(p, n); }

}  // namespace sy::runtime::detail
