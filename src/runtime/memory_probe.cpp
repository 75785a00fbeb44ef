#include "runtime/memory_probe.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/anonymous_memory.h"
#include "core/thread_pool.h"
#include "kernels/simd/cpu_features.h"

namespace sy::runtime {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
// One task of a pass: small enough that threads finish together, large enough that handing it out is free.
constexpr uint64_t kChunkBytes = kMiB;

using ReadLoop = uint64_t (*)(const std::byte*, size_t);

struct NamedReadLoop {
  ReadLoop fn;
  const char* name;
};

// The read loops this CPU can run; the probe reports the fastest, as the bandwidth a kernel can reach.
std::vector<NamedReadLoop> read_loops() {
  const kernels::CpuFeatures& cpu = kernels::cpu_features();
  if (cpu.avx512) return {{detail::read_sum_avx512, "avx512"}, {detail::read_sum_avx512_prefetch, "avx512 + prefetch"}};
  if (cpu.avx2) return {{detail::read_sum_avx2, "avx2"}, {detail::read_sum_avx2_prefetch, "avx2 + prefetch"}};
  return {{detail::read_sum_scalar, "scalar"}};
}

// "32768K", "1M", "512": sysfs cache sizes.
uint64_t parse_cache_size(const std::string& text) {
  size_t used = 0;
  uint64_t value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    return 0;
  }
  const char unit = used < text.size() ? text[used] : '\0';
  if (unit == 'K') return value << 10;
  if (unit == 'M') return value << 20;
  if (unit == 'G') return value << 30;
  return value;
}

}  // namespace

namespace detail {

uint64_t read_sum_scalar(const std::byte* p, size_t n) {
  const auto* w = reinterpret_cast<const uint64_t*>(p);
  uint64_t a = 0, b = 0, c = 0, d = 0;
  for (size_t i = 0; i < n / 8; i += 4) {
    a += w[i];
    b += w[i + 1];
    c += w[i + 2];
    d += w[i + 3];
  }
  return a + b + c + d;
}

}  // namespace detail

uint64_t last_level_cache_bytes() {
  uint64_t best = 0;
  std::error_code ec;
  const std::filesystem::path dir = "/sys/devices/system/cpu/cpu0/cache";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind("index", 0) != 0) continue;
    std::ifstream type_file(entry.path() / "type"), size_file(entry.path() / "size");
    std::string type, size;
    if (!(type_file >> type) || !(size_file >> size) || type == "Instruction") continue;
    best = std::max(best, parse_cache_size(size));
  }
  return best;
}

uint64_t default_probe_bytes() { return std::clamp<uint64_t>(8 * last_level_cache_bytes(), 256 * kMiB, 1024 * kMiB); }

uint64_t peak_rss_bytes() {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
}

Result<Bandwidth> measure_read_bandwidth(const BandwidthOptions& options) {
  const uint64_t requested = options.buffer_bytes > 0 ? options.buffer_bytes : default_probe_bytes();
  const uint64_t bytes = std::max<uint64_t>(kChunkBytes, requested / kChunkBytes * kChunkBytes);
  // Huge pages where the kernel gives them, so TLB misses do not slow the probe.
  auto buffer = AnonymousMemory::allocate(bytes);
  if (!buffer) return fail(ErrorCode::kIo, "memory bandwidth probe: {}", buffer.error().message);

  Bandwidth result{.bytes_per_second = 0, .buffer_bytes = bytes, .n_threads = std::max(1, options.n_threads)};
  const std::vector<NamedReadLoop> loops = read_loops();
  ThreadPool pool(result.n_threads);
  const int64_t n_chunks = static_cast<int64_t>(bytes / kChunkBytes);
  // Written by the threads that will read it, so every page exists before the first timed pass.
  pool.parallel_for(n_chunks, [&](int64_t chunk, int) {
    auto* words = reinterpret_cast<uint64_t*>(buffer->data() + static_cast<uint64_t>(chunk) * kChunkBytes);
    for (uint64_t i = 0; i < kChunkBytes / 8; ++i) words[i] = static_cast<uint64_t>(chunk) * 131 + i;
  });

  // One slot per thread, a cache line apart, so the sums are kept without the threads sharing a line.
  std::vector<uint64_t> sums(static_cast<size_t>(result.n_threads) * 8, 0);
  // Each loop runs every pass, the loops alternating, so a noisy moment does not favour one of them.
  for (int pass = 0; pass < std::max(1, options.passes); ++pass) {
    for (const NamedReadLoop& loop : loops) {
      if (options.interrupt != nullptr && options.interrupt->load())
        return fail(ErrorCode::kInvalidInput, "memory bandwidth probe interrupted");
      const auto start = std::chrono::steady_clock::now();
      pool.parallel_for(n_chunks, [&](int64_t chunk, int thread) {
        sums[static_cast<size_t>(thread) * 8] +=
            loop.fn(reinterpret_cast<const std::byte*>(buffer->data()) + static_cast<uint64_t>(chunk) * kChunkBytes,
                    kChunkBytes);
      });
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (seconds > 0 && static_cast<double>(bytes) / seconds > result.bytes_per_second) {
        result.bytes_per_second = static_cast<double>(bytes) / seconds;
        result.isa = loop.name;
      }
    }
  }
  // The sums feed an opaque sink so no compiler can drop the reads.
  uint64_t total = 0;
  for (const uint64_t s : sums) total += s;
  asm volatile("" : : "r"(total) : "memory");
  return result;
}

}  // namespace sy::runtime
