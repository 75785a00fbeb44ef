// The expert cache of an engine from the text a user gives (--expert-cache SIZE|auto|off,
// --expert-cache-policy lru|lfu|score): parses the size, decides what `auto` means on this machine, builds a
// moe::SlabCacheStore over the model file and hands it to the engine, which owns it. docs/expert-cache.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "moe/cache/eviction_policy.h"
#include "moe/cache/slab_cache_store.h"
#include "runtime/engine.h"

namespace sy::runtime {

struct ExpertCacheOptions {
  std::string size = "auto";  // bytes ("4G", "512MiB", "1000000"), "auto" or "off"
  // Report auto's decision when it keeps the mapping too (it is always reported when it turns the cache on):
  // for a user who asked for auto, not for everyone who left the default.
  bool explain = true;
  std::string policy = "lru";  // lru | lfu | score
  // "off" or "gate": the next layer's router, applied to this layer's input, names experts for a reader thread
  // to load ahead (moe/cache/gate_prefetcher.h). Needs the cache.
  std::string prefetch = "off";
  // How misses read the file: "direct" (O_DIRECT, bypassing the page cache), "dontneed" (buffered, then the
  // page cache is told to drop the range) or "buffered" (docs/expert-cache.md has the measurements).
  std::string reads = "direct";
  // Reader threads that read the misses of a layer while its cached experts compute (and, with gate, the
  // predictions); 0: every compute thread reads what it acquires itself. Each takes one slot of the budget.
  int readers = 4;
  // What a miss does (--on-miss): "wait" for the full-precision expert (exact, the default), "skip:W" (drop a
  // missing expert whose routing weight is below W for the token) or "low-bit" (compute it with the --shadow
  // file's copy). The lossy modes need the cache and a reader thread.
  std::string on_miss = "wait";
  std::string shadow = {};  // --shadow FILE (switchyard make-shadow) for low-bit
};

// "123", "1.5G", "512MiB", "64 KB": K, M, G, T and KiB, MiB, GiB, TiB are powers of 1024; KB, MB, GB, TB of
// 1000; no unit is bytes. Refuses negatives, zero, NaN, infinities, unknown units and sizes past 2^64, naming
// the text.
Result<uint64_t> parse_byte_size(std::string_view text);

// --prefetch: "off", "gate" (every prediction of the next layer's router) or "gate:M" (each token's M surest).
struct PrefetchMode {
  bool gate = false;
  int per_token = 0;  // 0: all
};
Result<PrefetchMode> parse_prefetch(std::string_view text);

// --on-miss: "wait", "skip:W" (W a finite number, 0 or more: a routing weight) or "low-bit".
Result<moe::MissPolicy> parse_on_miss(std::string_view text);
std::string on_miss_name(const moe::MissPolicy& policy);  // as parse_on_miss reads it

// The memory this process may use: the smallest of the cgroup limit (v2 memory.max, v1
// memory.limit_in_bytes) and MemAvailable from /proc/meminfo; `source` says which.
struct MemoryLimit {
  uint64_t bytes = 0;
  std::string source;
};
Result<MemoryLimit> process_memory_limit();
// The limit files that bind a process whose /proc/self/cgroup reads `proc_self_cgroup`, under the cgroup mount
// `root`: its own group's and every ancestor's (v2 memory.max, v1 memory/…/memory.limit_in_bytes), and the
// root's (inside a cgroup namespace). Pure, for tests.
std::vector<std::string> cgroup_limit_files(std::string_view proc_self_cgroup, std::string_view root);

// What a model needs in memory, for `auto`.
struct ModelFootprint {
  uint64_t file_bytes = 0;     // everything the mapping would make resident
  uint64_t expert_bytes = 0;   // routed experts (what a cache can hold back)
  uint64_t minimum_cache = 0;  // the smallest budget the cache accepts (one expert per thread and per reader)
  uint64_t shadow_bytes = 0;   // a low-bit shadow's experts, resident beside the cache
};

struct ExpertCachePlan {
  bool enabled = false;
  uint64_t budget_bytes = 0;
  moe::EvictionKind policy = moe::EvictionKind::kLru;
  bool prefetch_gate = false;
  int prefetch_per_token = 0;  // gate:M: the first M predictions of each token; 0: all of them
  int readers = 0;
  moe::ExpertReads reads = moe::ExpertReads::kDirect;
  moe::MissPolicy on_miss = {};
  std::string reason;  // one line for stderr (empty for an explicit size or off)
};

// Headroom `auto` keeps beside the weights for the KV cache, activations and the rest of the process: a fixed
// part plus a share of the limit (a first approximation; the context length is not considered yet).
inline constexpr uint64_t kAutoReserveBytes = 512ull << 20;
inline constexpr double kAutoReserveShare = 0.10;

// Pure: the decision for these options, model and limit. `auto` keeps the mapping when the whole file fits
// under the limit less the reserve; otherwise the cache gets what remains after the non-expert weights and the
// reserve (never less than the minimum, and the reason says when that is more than the machine has); a low-bit
// shadow's bytes come out of the cache's share.
Result<ExpertCachePlan> plan_expert_cache(const ExpertCacheOptions& options, const ModelFootprint& model,
                                          const MemoryLimit& limit);

ModelFootprint model_footprint(const model::Model& model, int n_threads, int readers,
                               moe::ExpertReads reads = moe::ExpertReads::kDirect);

// Plans and, when the cache is on, opens it on the engine's model file and gives it to the engine. `report`
// gets the line that explains an `auto` decision. Errors name the option.
Status apply_expert_cache(Engine& engine, const ExpertCacheOptions& options,
                          const std::function<void(std::string_view)>& report);

}  // namespace sy::runtime
