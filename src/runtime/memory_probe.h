// What `bench` needs to know about the machine's memory: how fast it can be read (so decode speed can be put
// against it), how large the last-level cache is (so the probe's buffer is well past it), and the process's
// peak resident set.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"

namespace sy::runtime {

struct BandwidthOptions {
  uint64_t buffer_bytes = 0;  // 0: default_probe_bytes()
  int n_threads = 1;
  int passes = 8;                                // the best pass is reported
  const std::atomic<bool>* interrupt = nullptr;  // checked between passes; not owned
};

struct Bandwidth {
  double bytes_per_second = 0;  // best pass
  uint64_t buffer_bytes = 0;
  int n_threads = 0;
  std::string isa = {};  // the fastest read loop: "avx512", "avx2" (either "+ prefetch") or "scalar"
};

// Reads a buffer far larger than the last-level cache with n_threads threads (each pass reads every byte
// once, in chunks handed out dynamically, with the widest SIMD loads the CPU has) and reports the best pass.
// The buffer is allocated and written before the first pass so no page fault is timed. Fails when the
// buffer cannot be allocated or the interrupt flag is raised.
Result<Bandwidth> measure_read_bandwidth(const BandwidthOptions& options);

// 8 × the last-level cache, at least 256 MiB and at most 1 GiB.
uint64_t default_probe_bytes();
// The largest data or unified cache sysfs lists for CPU 0; 0 when unknown.
uint64_t last_level_cache_bytes();
// The process's peak resident set (VmHWM): file pages mapped and touched (model weights) count toward it.
uint64_t peak_rss_bytes();

namespace detail {
// The read loops: each returns the wrapping sum of the buffer's 64-bit words, so its loads cannot be
// optimised away and every variant returns the same value. p is 64-byte aligned; n is a multiple of kReadBlock.
inline constexpr size_t kReadBlock = 256;
uint64_t read_sum_scalar(const std::byte* p, size_t n);
uint64_t read_sum_avx2(const std::byte* p, size_t n);
uint64_t read_sum_avx512(const std::byte* p, size_t n);
// The same with a software prefetch kReadPrefetchBytes ahead (prefetches past the end never fault): on some
// machines (the 2-core cloud VMs this was tuned on) plain loads leave 15-20 % of the read bandwidth unused,
// which a kernel that prefetches can reach, so the probe must count it.
inline constexpr size_t kReadPrefetchBytes = 1024;
uint64_t read_sum_avx2_prefetch(const std::byte* p, size_t n);
uint64_t read_sum_avx512_prefetch(const std::byte* p, size_t n);
}  // namespace detail

}  // namespace sy::runtime
