// AVX2 read loop of the bandwidth probe: eight independent 256-bit accumulators keep many loads in flight.
#include <immintrin.h>

#include "runtime/memory_probe.h"

namespace sy::runtime::detail {

uint64_t read_sum_avx2(const std::byte* p, size_t n) {
  __m256i acc[8];
  for (__m256i& a : acc) a = _mm256_setzero_si256();
  for (size_t i = 0; i < n; i += kReadBlock) {
    const auto* v = reinterpret_cast<const __m256i*>(p + i);
    for (int j = 0; j < 8; ++j) acc[j] = _mm256_add_epi64(acc[j], _mm256_load_si256(v + j));
  }
  for (int j = 1; j < 8; ++j) acc[0] = _mm256_add_epi64(acc[0], acc[j]);
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc[0]);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

}  // namespace sy::runtime::detail
