// The expert cache as the engine uses it: sizes and `auto` decisions from the command line's text, the real
// cache's hits and misses on a traced run equal moe::analysis's simulator for the same number of slots, and a
// model file that loses its expert bytes makes a step fail with an error instead of crashing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "model/model.h"
#include "moe/analysis/locality.h"
#include "moe/analysis/streams.h"
#include "moe/cache/gate_prefetcher.h"
#include "moe/cache/slab_cache_store.h"
#include "moe/trace/trace_reader.h"
#include "runtime/expert_cache_setup.h"
#include "runtime/routing_setup.h"
#include "support/test_support.h"

namespace sy::runtime {
namespace {

TEST(ExpertCacheSetup, ParsesSizes) {
  EXPECT_EQ(parse_byte_size("123").value(), 123u);
  EXPECT_EQ(parse_byte_size("4K").value(), 4096u);
  EXPECT_EQ(parse_byte_size("4KiB").value(), 4096u);
  EXPECT_EQ(parse_byte_size("4KB").value(), 4000u);
  EXPECT_EQ(parse_byte_size("1.5G").value(), 1536ull << 20);
  EXPECT_EQ(parse_byte_size("2 MiB").value(), 2ull << 20);
  EXPECT_EQ(parse_byte_size("3gb").value(), 3000000000ull);
  EXPECT_EQ(parse_byte_size("1T").value(), 1ull << 40);
}

TEST(ExpertCacheSetup, RefusesBadSizesNamingTheText) {
  for (const char* bad :
       {"12XB", "-1", "NaN", "nan", "inf", "", "G", ".", "1.2.3M", "0", "0.1", "1e9", "99999999999T"}) {
    SCOPED_TRACE(bad);
    auto r = parse_byte_size(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find(fmt::format("'{}'", bad)), std::string::npos) << r.error().message;
  }
  EXPECT_NE(parse_byte_size("12XB").error().message.find("unknown unit 'XB'"), std::string::npos);
  EXPECT_NE(parse_byte_size("-1").error().message.find("negative"), std::string::npos);
}

TEST(ExpertCacheSetup, FindsTheLimitFilesOfTheProcesssCgroupAndItsAncestors) {
  // cgroup v1, the memory controller mounted alone: the group, its parent and the root all bind.
  auto v1 = cgroup_limit_files("9:name=systemd:/\n4:memory:/batch/job7\n1:cpu,cpuacct:/\n", "/cg");
  for (const char* want : {"/cg/memory/batch/job7/memory.limit_in_bytes", "/cg/memory/batch/memory.limit_in_bytes",
                           "/cg/memory/memory.limit_in_bytes"})
    EXPECT_NE(std::find(v1.begin(), v1.end(), want), v1.end()) << want;
  EXPECT_EQ(std::find(v1.begin(), v1.end(), "/cg/memory/batch/job7/memory.max"), v1.end());
  // Controllers listed together ("cpu,memory") count too.
  auto joint = cgroup_limit_files("3:cpu,memory:/a\n", "/cg");
  EXPECT_NE(std::find(joint.begin(), joint.end(), "/cg/memory/a/memory.limit_in_bytes"), joint.end());
  // cgroup v2: one line, "0::/path".
  auto v2 = cgroup_limit_files("0::/user.slice/run-1.scope\n", "/cg");
  for (const char* want : {"/cg/user.slice/run-1.scope/memory.max", "/cg/user.slice/memory.max", "/cg/memory.max"})
    EXPECT_NE(std::find(v2.begin(), v2.end(), want), v2.end()) << want;
  // Nothing readable (or a path that climbs out): only the roots, no file outside the mount.
  for (const char* odd : {"", "garbage", "0::/../../etc\n", "4:memory\n"}) {
    SCOPED_TRACE(odd);
    for (const std::string& f : cgroup_limit_files(odd, "/cg")) {
      EXPECT_EQ(f.rfind("/cg/", 0), 0u) << f;
      EXPECT_EQ(f.find(".."), std::string::npos) << f;
    }
  }
}

TEST(ExpertCacheSetup, PlansOffExplicitAndAuto) {
  const ModelFootprint model{.file_bytes = 10ull << 30, .expert_bytes = 9ull << 30, .minimum_cache = 100ull << 20};
  const auto plan = [&](const std::string& size, uint64_t limit) {
    return plan_expert_cache({.size = size, .policy = "lfu"}, model, {.bytes = limit, .source = "test"});
  };
  EXPECT_FALSE(plan("off", 0).value().enabled);
  auto exact = plan("2G", 0).value();
  EXPECT_TRUE(exact.enabled);
  EXPECT_EQ(exact.budget_bytes, 2ull << 30);
  EXPECT_EQ(exact.policy, moe::EvictionKind::kLfu);
  EXPECT_TRUE(exact.reason.empty());
  // Fits with room to spare: the mapping stays, and the line says why.
  auto fits = plan("auto", 64ull << 30).value();
  EXPECT_FALSE(fits.enabled);
  EXPECT_NE(fits.reason.find("off (auto)"), std::string::npos) << fits.reason;
  // 8 GiB: less the reserve (512 MiB + 10 %) and the 1 GiB of non-expert weights.
  auto tight = plan("auto", 8ull << 30).value();
  EXPECT_TRUE(tight.enabled);
  const auto reserve = static_cast<uint64_t>(kAutoReserveBytes + kAutoReserveShare * static_cast<double>(8ull << 30));
  EXPECT_EQ(tight.budget_bytes, (8ull << 30) - reserve - (1ull << 30));
  EXPECT_NE(tight.reason.find("test"), std::string::npos) << tight.reason;
  // Too little memory for even the minimum: the minimum, said so.
  auto starved = plan("auto", 1ull << 30).value();
  EXPECT_EQ(starved.budget_bytes, model.minimum_cache);
  EXPECT_NE(starved.reason.find("minimum"), std::string::npos) << starved.reason;
  EXPECT_FALSE(plan("12XB", 0));
  EXPECT_FALSE(plan_expert_cache({.size = "1G", .policy = "fifo"}, model, {}));
  EXPECT_FALSE(plan_expert_cache({.size = "1G", .prefetch = "oracle"}, model, {}));
  EXPECT_TRUE(plan_expert_cache({.size = "1G", .prefetch = "gate"}, model, {}).value().prefetch_gate);
  EXPECT_TRUE(process_memory_limit());
}

int32_t argmax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

// One token per step (prompt fed token by token, then greedy decode), one thread, routing traced.
moe::ExpertStoreStats traced_run(const model::Model& m, const std::string& trace, int32_t slots,
                                 moe::EvictionKind kind) {
  Engine engine(m, {.n_threads = 1});
  RoutingOptions routing;
  routing.trace = trace;
  EXPECT_TRUE(apply_routing_options(engine, routing));
  auto store = moe::SlabCacheStore::open(
      m.expert_table(), m.path(),
      {.budget_bytes = static_cast<uint64_t>(slots) * moe::SlabCacheStore::slot_bytes_for(m.expert_table()),
       .n_threads = 1,
       .policy = kind});
  EXPECT_TRUE(store);
  EXPECT_EQ((*store)->n_slots(), slots);
  engine.adopt_expert_store(std::move(*store));
  auto seq = engine.new_sequence({.n_ctx = 64});
  int32_t token = 1;
  for (int i = 0; i < 24; ++i) {
    EXPECT_TRUE(engine.step(*seq, std::span<const int32_t>(&token, 1)));
    token = i < 6 ? (token * 7 + 3) % static_cast<int32_t>(engine.n_vocab()) : argmax(seq->logits());
  }
  return *engine.expert_store().stats();
}

// The cache is one pool for all layers, and the simulator is per layer; its stream of all layers' choices in
// run order (token-major, ids made unique per layer: moe::analysis::pool_stream) is the same thing, since a
// round is one layer of one token.
moe::analysis::LayerStream global_stream(const moe::trace::Trace& trace) {
  const auto layers = moe::analysis::layer_streams(trace);
  EXPECT_FALSE(layers.empty());
  for (const auto& l : layers) EXPECT_EQ(l.tokens.size(), layers.front().tokens.size());
  return moe::analysis::pool_stream(layers);
}

TEST(ExpertCache, HitsAndMissesEqualTheSimulator) {
  const auto bundled = std::filesystem::path(SY_SOURCE_DIR) / "models" / "switchyard-moe-mini.q8_0.gguf";
  for (const auto& path : {bundled, test::conformance_dir() / "models" / "olmoe-tiny.q8_0.gguf"}) {
    SCOPED_TRACE(path.filename().string());
    auto m = model::Model::open(path);
    ASSERT_TRUE(m) << m.error().message;
    int32_t k = 0, n_slots_all = 0;
    for (const auto& l : (*m)->config().layers) k = std::max(k, static_cast<int32_t>(l.ffn.moe.routing.n_used));
    for (const auto& l : (*m)->expert_table()) n_slots_all += static_cast<int32_t>(l.n_expert());
    ASSERT_GT(k, 0);
    // At least k slots: with fewer the simulator skips caching an expert that the real cache must load.
    for (const int32_t slots : {k, k + 1, 2 * k + 1, n_slots_all / 2}) {
      for (const auto& [kind, sim] : {std::pair(moe::EvictionKind::kLru, moe::analysis::CachePolicy::kLru),
                                      std::pair(moe::EvictionKind::kLfu, moe::analysis::CachePolicy::kLfu)}) {
        SCOPED_TRACE(fmt::format("{} slots, {}", slots, moe::eviction_kind_name(kind)));
        const auto trace_path = (test::scratch_dir("expert_cache_sim") / "run.trace").string();
        const moe::ExpertStoreStats real = traced_run(**m, trace_path, slots, kind);
        auto trace = moe::trace::read_trace(trace_path);
        ASSERT_TRUE(trace) << trace.error().message;
        const auto expected = moe::analysis::cache_counts(global_stream(*trace), slots, sim);
        EXPECT_EQ(real.hits + real.misses, expected.uses);
        EXPECT_EQ(real.hits, expected.hits);
        EXPECT_GT(real.misses, 0u);
      }
    }
  }
}

// Records the prefetch hints and the experts each layer then really ran (ready_first sees them all).
class HintRecorder final : public moe::ExpertStore {
 public:
  explicit HintRecorder(const model::Model& m) : resident_(m.resident_experts()) {}
  Result<moe::ExpertHandle> acquire(int32_t layer, int32_t expert) override { return resident_.acquire(layer, expert); }
  // The MoE layer itself hints the experts it is about to run, just before ready_first: those are not the
  // prefetcher's and are told apart by that order.
  void prefetch(int32_t layer, std::span<const int32_t> experts) override {
    calls.emplace_back(layer, std::set<int32_t>(experts.begin(), experts.end()));
  }
  size_t ready_first(int32_t layer, std::span<int32_t> experts) override {
    const std::set<int32_t> active(experts.begin(), experts.end());
    if (!calls.empty() && calls.back() == std::pair(layer, active)) calls.pop_back();
    for (const auto& [l, ids] : calls) {
      hinted[l].insert(ids.begin(), ids.end());
      hint_before_use.try_emplace(l, !ran.contains(l));
    }
    calls.clear();
    ran[layer].insert(experts.begin(), experts.end());
    return experts.size();
  }
  std::vector<std::pair<int32_t, std::set<int32_t>>> calls;
  std::map<int32_t, std::set<int32_t>> hinted, ran;
  std::map<int32_t, bool> hint_before_use;

 protected:
  void release(int32_t, int32_t) noexcept override {}

 private:
  moe::ExpertStore& resident_;
};

// The prefetcher hints each MoE layer but the first, before that layer runs, with the experts the next layer's
// gate picks on the previous layer's input; those are mostly the ones the layer then runs. Deterministic: no
// reader thread involved (the cache's reader is checked in slab_cache_store_test.cpp).
TEST(ExpertCache, GatePrefetcherHintsTheNextLayerBeforeItRuns) {
  auto m = model::Model::open(std::filesystem::path(SY_SOURCE_DIR) / "models" / "switchyard-moe-mini.q8_0.gguf");
  ASSERT_TRUE(m) << m.error().message;
  Engine engine(**m, {.n_threads = 1});
  HintRecorder store(**m);
  engine.set_expert_store(&store);
  engine.add_observer(std::make_unique<moe::GatePrefetcher>(moe_router_weights(**m), store));
  auto seq = engine.new_sequence({.n_ctx = 64});
  const int32_t token = 5;
  ASSERT_TRUE(engine.step(*seq, std::span<const int32_t>(&token, 1)));
  const auto routers = moe_router_weights(**m);
  ASSERT_EQ(routers.size(), 4u);
  EXPECT_FALSE(store.hinted.contains(routers[0].layer));  // nothing before the first MoE layer predicts it
  size_t right = 0, hinted = 0;
  for (size_t i = 1; i < routers.size(); ++i) {
    const int32_t l = routers[i].layer;
    ASSERT_TRUE(store.hinted.contains(l)) << l;
    EXPECT_TRUE(store.hint_before_use[l]) << l;
    EXPECT_EQ(store.hinted[l].size(), static_cast<size_t>(routers[i].config.n_used)) << l;  // one token: k guesses
    for (const int32_t e : store.hinted[l]) right += store.ran[l].contains(e) ? 1 : 0;
    hinted += store.hinted[l].size();
  }
  EXPECT_GE(right * 2, hinted) << right << " of " << hinted << " guesses right";
}

// The reader's loads are used and the acquires are the same as without prefetch (how many it gets to load in
// time is up to the scheduler, so no count is asserted); --prefetch gate without a cache is refused.
TEST(ExpertCache, GatePrefetchKeepsTheAcquires) {
  auto m = model::Model::open(std::filesystem::path(SY_SOURCE_DIR) / "models" / "switchyard-moe-mini.q8_0.gguf");
  ASSERT_TRUE(m) << m.error().message;
  const uint64_t slot = moe::SlabCacheStore::slot_bytes_for((*m)->expert_table());
  auto decode = [&](const std::string& prefetch) {
    Engine engine(**m, {.n_threads = 1});
    auto st = apply_expert_cache(engine, {.size = std::to_string(16 * slot), .prefetch = prefetch}, nullptr);
    EXPECT_TRUE(st) << (st ? "" : st.error().message);
    auto seq = engine.new_sequence({.n_ctx = 64});
    int32_t token = 1;
    for (int i = 0; i < 32; ++i) {
      EXPECT_TRUE(engine.step(*seq, std::span<const int32_t>(&token, 1)));
      token = argmax(seq->logits());
    }
    return *engine.expert_store().stats();
  };
  const auto off = decode("off"), gate = decode("gate");
  EXPECT_EQ(off.prefetches, 0u);
  EXPECT_LE(gate.prefetch_hits, gate.prefetches);
  EXPECT_EQ(gate.hits + gate.misses, off.hits + off.misses);  // the same acquires: the same tokens
  Engine engine(**m, {.n_threads = 1});
  auto refused = apply_expert_cache(engine, {.size = "off", .prefetch = "gate"}, nullptr);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("--prefetch gate"), std::string::npos) << refused.error().message;
}

TEST(ExpertCache, AStepFailsWhenTheFileLostItsExperts) {
  auto m = model::Model::open(test::conformance_dir() / "models" / "qwen2moe-tiny.q8_0.gguf");
  ASSERT_TRUE(m) << m.error().message;
  const moe::ExpertTable& table = (*m)->expert_table();
  const auto copy = test::scratch_dir("expert_cache_truncated") / "model.gguf";
  std::filesystem::copy_file((*m)->path(), copy, std::filesystem::copy_options::overwrite_existing);
  auto store = moe::SlabCacheStore::open(
      table, copy, {.budget_bytes = moe::SlabCacheStore::minimum_budget(table, 2), .n_threads = 2});
  ASSERT_TRUE(store) << store.error().message;
  // Keep only the file up to the first expert byte of any layer.
  uint64_t first = std::filesystem::file_size(copy);
  for (const auto& l : table)
    if (l.n_expert() > 0) first = std::min({first, l.gate.file_offset, l.up.file_offset, l.down.file_offset});
  std::filesystem::resize_file(copy, first);
  Engine engine(**m, {.n_threads = 2});
  engine.adopt_expert_store(std::move(*store));
  auto seq = engine.new_sequence({.n_ctx = 16});
  const std::vector<int32_t> prompt = {3, 5, 7};
  auto r = engine.step(*seq, prompt);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("expert cache: layer"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(copy.string()), std::string::npos) << r.error().message;
  EXPECT_EQ(seq->pos(), 0);
}

}  // namespace
}  // namespace sy::runtime
