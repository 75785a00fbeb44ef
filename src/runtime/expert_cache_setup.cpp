#include "runtime/expert_cache_setup.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include "moe/cache/gate_prefetcher.h"
#include "moe/cache/slab_cache_store.h"
#include "runtime/routing_setup.h"

namespace sy::runtime {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string mib(uint64_t bytes) { return fmt::format("{:.0f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0)); }

// A limit file holds a number of bytes or "max" (no limit); absent or unreadable: no limit from it.
std::optional<uint64_t> read_limit_file(const char* path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max") return std::nullopt;
  try {
    const uint64_t v = std::stoull(word);
    // cgroup v1 writes a huge page-rounded 2^63 for "no limit".
    if (v >= (1ull << 62)) return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<uint64_t> mem_available() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    uint64_t kib = 0;
    if (fields >> kib) return kib * 1024;
  }
  return std::nullopt;
}

}  // namespace

Result<uint64_t> parse_byte_size(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::kInvalidInput,
                "'{}' is not a size: {} (give bytes, optionally with K, M, G, T, KiB, MiB, GiB, TiB, KB, MB, GB, TB)",
                text, why);
  };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) {
    if (!text.empty() && text[0] == '-') return bad("it is negative");
    return bad("it does not start with a number");
  }
  const std::string number(text.substr(0, i));
  if (std::count(number.begin(), number.end(), '.') > 1) return bad("the number has two decimal points");
  if (number == ".") return bad("it does not start with a number");
  std::string_view unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  const std::string u = lower(unit);
  double scale = 0;
  if (u.empty() || u == "b")
    scale = 1;
  else if (u == "k" || u == "kib")
    scale = 1024.0;
  else if (u == "m" || u == "mib")
    scale = 1024.0 * 1024;
  else if (u == "g" || u == "gib")
    scale = 1024.0 * 1024 * 1024;
  else if (u == "t" || u == "tib")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else if (u == "kb")
    scale = 1e3;
  else if (u == "mb")
    scale = 1e6;
  else if (u == "gb")
    scale = 1e9;
  else if (u == "tb")
    scale = 1e12;
  else
    return bad(fmt::format("unknown unit '{}'", unit));
  const double bytes = std::stod(number) * scale;
  if (!std::isfinite(bytes) || bytes >= 18446744073709551616.0) return bad("it is too large");
  if (bytes < 1.0) return bad("it is zero (use off to run without a cache)");
  return static_cast<uint64_t>(bytes);
}

Result<MemoryLimit> process_memory_limit() {
  std::optional<MemoryLimit> best;
  auto consider = [&](std::optional<uint64_t> v, const char* source) {
    if (v && (!best || *v < best->bytes)) best = MemoryLimit{.bytes = *v, .source = source};
  };
  consider(mem_available(), "MemAvailable in /proc/meminfo");
  consider(read_limit_file("/sys/fs/cgroup/memory.max"), "the cgroup's memory.max");
  consider(read_limit_file("/sys/fs/cgroup/memory/memory.limit_in_bytes"), "the cgroup's memory.limit_in_bytes");
  if (!best)
    return fail(ErrorCode::kIo,
                "--expert-cache auto: cannot tell how much memory this process may use "
                "(no MemAvailable in /proc/meminfo); give a size");
  return *best;
}

Result<ExpertCachePlan> plan_expert_cache(const ExpertCacheOptions& options, const ModelFootprint& model,
                                          const MemoryLimit& limit) {
  auto policy = moe::parse_eviction_kind(options.policy);
  if (!policy) return fail(ErrorCode::kInvalidInput, "--expert-cache-policy: {}", policy.error().message);
  ExpertCachePlan plan;
  plan.policy = *policy;
  if (options.prefetch != "off" && options.prefetch != "gate")
    return fail(ErrorCode::kInvalidInput, "--prefetch: unknown mode '{}' (off or gate)", options.prefetch);
  plan.prefetch_gate = options.prefetch == "gate";
  const std::string size = lower(options.size);
  if (size == "off") {
    if (plan.prefetch_gate)
      return fail(ErrorCode::kInvalidInput,
                  "--prefetch gate loads experts into the cache: give --expert-cache SIZE or auto");
    return plan;
  }
  if (model.expert_bytes == 0) {
    if (size == "auto") return plan;  // nothing to cache: resident, quietly
    return fail(ErrorCode::kInvalidInput, "--expert-cache: the model has no routed experts to cache");
  }
  if (size != "auto") {
    auto bytes = parse_byte_size(options.size);
    if (!bytes) return fail(ErrorCode::kInvalidInput, "--expert-cache: {}", bytes.error().message);
    plan.enabled = true;
    plan.budget_bytes = *bytes;
    return plan;
  }
  const auto reserve = static_cast<uint64_t>(kAutoReserveBytes + kAutoReserveShare * static_cast<double>(limit.bytes));
  const uint64_t usable = limit.bytes > reserve ? limit.bytes - reserve : 0;
  if (model.file_bytes <= usable) {
    plan.reason = fmt::format(
        "expert cache: off (auto): the model's {} fit in the {} that {} allows, less {} kept "
        "for the KV cache and scratch",
        mib(model.file_bytes), mib(limit.bytes), limit.source, mib(reserve));
    return plan;
  }
  const uint64_t rest = model.file_bytes - model.expert_bytes;  // non-expert weights stay mapped
  const uint64_t room = usable > rest ? usable - rest : 0;
  plan.enabled = true;
  plan.budget_bytes = std::max(room, model.minimum_cache);
  plan.reason = fmt::format(
      "expert cache: {} of {} of experts (auto): the model's {} exceed the {} that {} allows less {} for the KV "
      "cache and scratch{}",
      mib(plan.budget_bytes), mib(model.expert_bytes), mib(model.file_bytes), mib(limit.bytes), limit.source,
      mib(reserve),
      room < model.minimum_cache ? "; that leaves less than the minimum the threads need, so the minimum" : "");
  return plan;
}

ModelFootprint model_footprint(const model::Model& model, int n_threads, bool prefetch) {
  ModelFootprint f;
  f.file_bytes = model.file().file_size();
  for (const moe::LayerExperts& l : model.expert_table())
    for (const moe::ExpertTensor* t : {&l.gate, &l.up, &l.down})
      f.expert_bytes += t->slab_bytes() * static_cast<uint64_t>(t->n_expert);
  f.minimum_cache = moe::SlabCacheStore::minimum_budget(model.expert_table(), n_threads, prefetch);
  return f;
}

Status apply_expert_cache(Engine& engine, const ExpertCacheOptions& options,
                          const std::function<void(std::string_view)>& report) {
  const model::Model& model = engine.model();
  const int n_threads = engine.pool().size();
  MemoryLimit limit;
  if (lower(options.size) == "auto") {
    auto l = process_memory_limit();
    if (!l) return tl::unexpected(l.error());
    limit = *l;
  }
  auto plan = plan_expert_cache(options, model_footprint(model, n_threads, options.prefetch == "gate"), limit);
  if (!plan) return tl::unexpected(plan.error());
  if (!plan->reason.empty() && report) report(plan->reason);
  if (!plan->enabled) return {};
  if (model.path().empty())
    return fail(ErrorCode::kUnsupported, "--expert-cache: the model was not opened from a file the cache can read");
  auto store = moe::SlabCacheStore::open(model.expert_table(), model.path(),
                                         {.budget_bytes = plan->budget_bytes,
                                          .n_threads = n_threads,
                                          .policy = plan->policy,
                                          .prefetch = plan->prefetch_gate});
  if (!store) return fail(store.error().code, "--expert-cache: {}", store.error().message);
  moe::ExpertStore& cache = **store;
  engine.adopt_expert_store(std::move(*store));
  // The engine destroys its observers before its store, so the prefetcher never outlives the cache.
  if (plan->prefetch_gate) engine.add_observer(std::make_unique<moe::GatePrefetcher>(moe_router_weights(model), cache));
  return {};
}

}  // namespace sy::runtime
