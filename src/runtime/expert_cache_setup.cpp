#include "runtime/expert_cache_setup.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "model/shadow.h"
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

std::vector<std::string> cgroup_limit_files(std::string_view proc_self_cgroup, std::string_view root) {
  std::vector<std::string> files;
  // Every ancestor's limit binds too: walk from the process's own group up to the hierarchy's root.
  auto add_chain = [&](std::string dir, std::string_view file) {
    while (true) {
      files.push_back(fmt::format("{}{}/{}", root, dir, file));
      if (dir.empty()) break;
      const size_t slash = dir.rfind('/');
      dir.resize(slash == std::string::npos ? 0 : slash);
    }
  };
  size_t start = 0;
  while (start < proc_self_cgroup.size()) {
    size_t end = proc_self_cgroup.find('\n', start);
    if (end == std::string_view::npos) end = proc_self_cgroup.size();
    const std::string_view line = proc_self_cgroup.substr(start, end - start);
    start = end + 1;
    // "hierarchy-id:controllers:path"; v2 is "0::/path", v1 names its controllers ("4:memory:/path").
    const size_t first = line.find(':');
    const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string path(line.substr(second + 1));
    if (path == "/") path.clear();
    if (path.find("..") != std::string::npos) continue;  // never leave the hierarchy
    if (controllers.empty() && line.substr(0, first) == "0") {
      add_chain(path, "memory.max");
      continue;
    }
    size_t c = 0;
    while (c <= controllers.size()) {
      size_t comma = controllers.find(',', c);
      if (comma == std::string_view::npos) comma = controllers.size();
      if (controllers.substr(c, comma - c) == "memory") add_chain("/memory" + path, "memory.limit_in_bytes");
      c = comma + 1;
    }
  }
  // Inside a cgroup namespace the process's group is the mount's root: these cover that case too.
  files.push_back(fmt::format("{}/memory.max", root));
  files.push_back(fmt::format("{}/memory/memory.limit_in_bytes", root));
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

Result<PrefetchMode> parse_prefetch(std::string_view text) {
  if (text == "off") return PrefetchMode{};
  if (text == "gate") return PrefetchMode{.gate = true};
  int m = 0;
  const std::string_view count = text.substr(std::min<size_t>(5, text.size()));
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), m);
  if (text.rfind("gate:", 0) != 0 || ec != std::errc() || end != count.data() + count.size() || m < 1 || m > 64)
    return fail(ErrorCode::kInvalidInput, "'{}' is not off, gate or gate:M (M predictions per token, 1 to 64)", text);
  return PrefetchMode{.gate = true, .per_token = m};
}

Result<MemoryLimit> process_memory_limit() {
  std::optional<MemoryLimit> best;
  auto consider = [&](std::optional<uint64_t> v, std::string source) {
    if (v && (!best || *v < best->bytes)) best = MemoryLimit{.bytes = *v, .source = std::move(source)};
  };
  consider(mem_available(), "MemAvailable in /proc/meminfo");
  std::string self;
  if (std::ifstream in("/proc/self/cgroup"); in) {
    std::ostringstream text;
    text << in.rdbuf();
    self = text.str();
  }
  for (const std::string& file : cgroup_limit_files(self, "/sys/fs/cgroup"))
    consider(read_limit_file(file.c_str()), fmt::format("the cgroup limit in {}", file));
  if (!best)
    return fail(ErrorCode::kIo,
                "--expert-cache auto: cannot tell how much memory this process may use "
                "(no MemAvailable in /proc/meminfo); give a size");
  return *best;
}

Result<moe::MissPolicy> parse_on_miss(std::string_view text) {
  if (text == "wait") return moe::MissPolicy{};
  if (text == "low-bit") return moe::MissPolicy{.action = moe::MissAction::kLowBit};
  if (text.starts_with("skip:")) {
    const std::string_view w = text.substr(5);
    float v = 0.0f;
    const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
    // Routing weights are at most 1 unless the model scales them (deepseek's routed_scaling_factor).
    if (w.empty() || ec != std::errc() || end != w.data() + w.size() || !std::isfinite(v) || v < 0.0f)
      return fail(ErrorCode::kInvalidInput, "'{}': skip:W needs a routing weight W of 0 or more (e.g. 0.1)", text);
    return moe::MissPolicy{.action = moe::MissAction::kSkip, .skip_below = v};
  }
  return fail(ErrorCode::kInvalidInput, "unknown miss mode '{}' (wait, skip:W or low-bit)", text);
}

std::string on_miss_name(const moe::MissPolicy& policy) {
  switch (policy.action) {
    case moe::MissAction::kWait: return "wait";
    case moe::MissAction::kSkip: return fmt::format("skip:{}", policy.skip_below);
    case moe::MissAction::kLowBit: return "low-bit";
  }
  return "?";
}

Result<ExpertCachePlan> plan_expert_cache(const ExpertCacheOptions& options, const ModelFootprint& model,
                                          const MemoryLimit& limit) {
  auto policy = moe::parse_eviction_kind(options.policy);
  if (!policy) return fail(ErrorCode::kInvalidInput, "--expert-cache-policy: {}", policy.error().message);
  ExpertCachePlan plan;
  plan.policy = *policy;
  auto prefetch = parse_prefetch(options.prefetch);
  if (!prefetch) return fail(ErrorCode::kInvalidInput, "--prefetch: {}", prefetch.error().message);
  plan.prefetch_gate = prefetch->gate;
  plan.prefetch_per_token = prefetch->per_token;
  auto reads = moe::parse_expert_reads(options.reads);
  if (!reads) return fail(ErrorCode::kInvalidInput, "--expert-reads: {}", reads.error().message);
  plan.reads = *reads;
  if (options.readers < 0 || options.readers > 64)
    return fail(ErrorCode::kInvalidInput, "--expert-readers: {} is not a count of reader threads (0 to 64)",
                options.readers);
  plan.readers = options.readers;
  auto on_miss = parse_on_miss(options.on_miss);
  if (!on_miss) return fail(ErrorCode::kInvalidInput, "--on-miss: {}", on_miss.error().message);
  plan.on_miss = *on_miss;
  const bool lossy = plan.on_miss.action != moe::MissAction::kWait;
  if (plan.on_miss.action == moe::MissAction::kLowBit && options.shadow.empty())
    return fail(ErrorCode::kInvalidInput,
                "--on-miss low-bit needs --shadow FILE (a low-bit copy of the experts: switchyard make-shadow)");
  if (plan.on_miss.action != moe::MissAction::kLowBit && !options.shadow.empty())
    return fail(ErrorCode::kInvalidInput, "--shadow is used by --on-miss low-bit only (--on-miss is {})",
                options.on_miss);
  if (lossy && plan.readers == 0)
    return fail(ErrorCode::kInvalidInput,
                "--on-miss {} needs reader threads to load a missing expert for later tokens: --expert-readers 0 "
                "has none",
                options.on_miss);
  if (plan.prefetch_gate && plan.readers == 0)
    return fail(ErrorCode::kInvalidInput, "--prefetch gate needs reader threads: --expert-readers 0 has none");
  const std::string size = lower(options.size);
  if (size == "off") {
    if (plan.prefetch_gate)
      return fail(ErrorCode::kInvalidInput,
                  "--prefetch gate loads experts into the cache: give --expert-cache SIZE or auto");
    if (lossy)
      return fail(ErrorCode::kInvalidInput,
                  "--on-miss {} acts on the expert cache's misses: give --expert-cache SIZE or auto", options.on_miss);
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
  // Non-expert weights stay mapped, and so does a low-bit shadow.
  const uint64_t rest = model.file_bytes - model.expert_bytes + model.shadow_bytes;
  const uint64_t room = usable > rest ? usable - rest : 0;
  plan.enabled = true;
  plan.budget_bytes = std::max(room, model.minimum_cache);
  plan.reason = fmt::format(
      "expert cache: {} of {} of experts (auto): the model's {} exceed the {} that {} allows less {} for the KV "
      "cache and scratch{}{}",
      mib(plan.budget_bytes), mib(model.expert_bytes), mib(model.file_bytes), mib(limit.bytes), limit.source,
      mib(reserve),
      model.shadow_bytes > 0 ? fmt::format(" and {} for the low-bit shadow", mib(model.shadow_bytes)) : "",
      room < model.minimum_cache ? "; that leaves less than the minimum the threads need, so the minimum" : "");
  return plan;
}

ModelFootprint model_footprint(const model::Model& model, int n_threads, int readers, moe::ExpertReads reads) {
  ModelFootprint f;
  f.file_bytes = model.file().file_size();
  f.expert_bytes = moe::routed_expert_bytes(model.expert_table());
  f.minimum_cache = moe::SlabCacheStore::minimum_budget(model.expert_table(), n_threads, readers, reads);
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
  const auto reads = moe::parse_expert_reads(options.reads).value_or(moe::ExpertReads::kDirect);  // checked below
  ModelFootprint footprint = model_footprint(model, n_threads, std::max(0, options.readers), reads);
  // The shadow is opened (and checked against the model) before planning: auto leaves its bytes out of the cache.
  std::shared_ptr<const model::Shadow> shadow;
  if (const auto on_miss = parse_on_miss(options.on_miss);
      on_miss && on_miss->action == moe::MissAction::kLowBit && !options.shadow.empty()) {
    auto opened = model::open_shadow(model, options.shadow);
    if (!opened) return fail(opened.error().code, "--shadow: {}", opened.error().message);
    shadow = std::move(*opened);
    footprint.shadow_bytes = shadow->expert_bytes;
  }
  auto plan = plan_expert_cache(options, footprint, limit);
  if (!plan) return tl::unexpected(plan.error());
  // A prefetch or miss mode that auto leaves without a cache is explained too: it will do nothing.
  if (!plan->reason.empty() && report &&
      (plan->enabled || options.explain || plan->prefetch_gate || plan->on_miss.action != moe::MissAction::kWait))
    report(plan->reason);
  if (!plan->enabled) return {};
  if (model.path().empty())
    return fail(ErrorCode::kUnsupported, "--expert-cache: the model was not opened from a file the cache can read");
  auto store = moe::SlabCacheStore::open(model.expert_table(), model.path(),
                                         {.budget_bytes = plan->budget_bytes,
                                          .n_threads = n_threads,
                                          .policy = plan->policy,
                                          .readers = plan->readers,
                                          .reads = plan->reads,
                                          .on_miss = plan->on_miss,
                                          .shadow = shadow != nullptr ? shadow->experts : moe::ExpertTable{},
                                          .shadow_owner = shadow});
  if (!store) return fail(store.error().code, "--expert-cache: {}", store.error().message);
  moe::ExpertStore& cache = **store;
  engine.adopt_expert_store(std::move(*store));
  // The engine destroys its observers before its store, so the prefetcher never outlives the cache.
  if (plan->prefetch_gate)
    engine.add_observer(
        std::make_unique<moe::GatePrefetcher>(moe_router_weights(model), cache, plan->prefetch_per_token));
  return {};
}

}  // namespace sy::runtime
