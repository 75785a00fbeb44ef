// The bandwidth probe's read loops against each other, and the probe on a small buffer. Never timed: only
// that it gives a number at all.
#include "runtime/memory_probe.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <memory>

#include "kernels/simd/cpu_features.h"

namespace sy::runtime {
namespace {

TEST(MemoryProbe, EveryReadLoopTheCpuHasSumsTheSameWords) {
  constexpr size_t kBytes = 64 * detail::kReadBlock;
  auto* raw = static_cast<std::byte*>(std::aligned_alloc(64, kBytes));
  ASSERT_NE(raw, nullptr);
  const std::unique_ptr<std::byte, decltype(&std::free)> buffer(raw, &std::free);
  auto* words = reinterpret_cast<uint64_t*>(raw);
  uint64_t expected = 0;
  for (size_t i = 0; i < kBytes / 8; ++i) {
    words[i] = 0x9e3779b97f4a7c15ull * (i + 1);  // wraps: the sums must wrap alike
    expected += words[i];
  }
  EXPECT_EQ(detail::read_sum_scalar(raw, kBytes), expected);
  const kernels::CpuFeatures& cpu = kernels::cpu_features();
  if (cpu.supports("avx2")) {
    EXPECT_EQ(detail::read_sum_avx2(raw, kBytes), expected);
    EXPECT_EQ(detail::read_sum_avx2_prefetch(raw, kBytes), expected);
  }
  if (cpu.supports("avx512")) {
    EXPECT_EQ(detail::read_sum_avx512(raw, kBytes), expected);
    EXPECT_EQ(detail::read_sum_avx512_prefetch(raw, kBytes), expected);
  }
  // Only the first block.
  uint64_t first = 0;
  for (size_t i = 0; i < detail::kReadBlock / 8; ++i) first += words[i];
  EXPECT_EQ(detail::read_sum_scalar(raw, detail::kReadBlock), first);
  if (cpu.supports("avx2")) {
    EXPECT_EQ(detail::read_sum_avx2(raw, detail::kReadBlock), first);
    EXPECT_EQ(detail::read_sum_avx2_prefetch(raw, detail::kReadBlock), first);
  }
  if (cpu.supports("avx512")) {
    EXPECT_EQ(detail::read_sum_avx512(raw, detail::kReadBlock), first);
    EXPECT_EQ(detail::read_sum_avx512_prefetch(raw, detail::kReadBlock), first);
  }
}

TEST(MemoryProbe, SmallBufferGivesAPositiveFiniteBandwidth) {
  auto bw = measure_read_bandwidth({.buffer_bytes = 4u << 20, .n_threads = 2, .passes = 2});
  ASSERT_TRUE(bw) << bw.error().message;
  EXPECT_TRUE(std::isfinite(bw->bytes_per_second));
  EXPECT_GT(bw->bytes_per_second, 0);
  EXPECT_EQ(bw->buffer_bytes, 4u << 20);
  EXPECT_EQ(bw->n_threads, 2);
  EXPECT_FALSE(bw->isa.empty());
}

TEST(MemoryProbe, StopsWhenInterrupted) {
  const std::atomic<bool> stop{true};
  EXPECT_FALSE(measure_read_bandwidth({.buffer_bytes = 1u << 20, .n_threads = 1, .passes = 2, .interrupt = &stop}));
}

TEST(MemoryProbe, MachineFacts) {
  // The default probe is past any cache sysfs lists, within its fixed bounds.
  const uint64_t probe = default_probe_bytes();
  EXPECT_GE(probe, 256u << 20);
  EXPECT_LE(probe, 1024u << 20);
  if (last_level_cache_bytes() > 0) {
    EXPECT_GE(probe, std::min<uint64_t>(8 * last_level_cache_bytes(), 1024u << 20));
  }
  EXPECT_GT(peak_rss_bytes(), 0u);
}

}  // namespace
}  // namespace sy::runtime
