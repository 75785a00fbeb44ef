// The budgeted expert cache's contracts: the budget is a hard ceiling (too small is refused, naming the
// minimum), a pinned expert is never evicted and its bytes never change, concurrent acquirers of one expert
// share one read, and a file that lost its expert bytes gives an error on the miss, not a crash.
#include "moe/cache/slab_cache_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <numeric>
#include <thread>
#include <vector>

#include "core/positional_file.h"
#include "model/model.h"
#include "support/test_support.h"

namespace sy::moe {
namespace {

std::filesystem::path model_path(const char* name) { return test::conformance_dir() / "models" / name; }

std::unique_ptr<model::Model> open_model(const char* name) {
  auto m = model::Model::open(model_path(name));
  EXPECT_TRUE(m) << (m ? "" : m.error().message);
  return m ? std::move(*m) : nullptr;
}

int32_t first_moe_layer(const ExpertTable& table) {
  for (size_t l = 0; l < table.size(); ++l)
    if (table[l].n_expert() > 0) return static_cast<int32_t>(l);
  return -1;
}

// The handle's gate bytes equal the file's bytes of that expert.
bool holds_file_bytes(const ExpertTable& table, const ExpertHandle& h, const PositionalFile& file) {
  const ExpertSlab slab = table[static_cast<size_t>(h.layer())].gate.slab(h.expert());
  std::vector<uint8_t> want(slab.bytes);
  EXPECT_TRUE(file.read_at(slab.offset, want));
  const auto* got = static_cast<const uint8_t*>(h.weights().gate.data);
  return std::equal(want.begin(), want.end(), got);
}

TEST(SlabCacheStore, RefusesABudgetBelowOneExpertPerThreadNamingTheMinimum) {
  auto m = open_model("qwen3moe-tiny.q8_0.gguf");
  ASSERT_TRUE(m);
  const uint64_t minimum = SlabCacheStore::minimum_budget(m->expert_table(), 4);
  EXPECT_EQ(minimum, 4 * SlabCacheStore::slot_bytes_for(m->expert_table()));
  auto r = SlabCacheStore::open(m->expert_table(), m->path(), {.budget_bytes = minimum - 1, .n_threads = 4});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(std::to_string(minimum)), std::string::npos) << r.error().message;
  EXPECT_TRUE(SlabCacheStore::open(m->expert_table(), m->path(), {.budget_bytes = minimum, .n_threads = 4}));
}

TEST(SlabCacheStore, PinnedExpertsStayAndTheBudgetHolds) {
  auto m = open_model("qwen3moe-tiny.q8_0.gguf");
  ASSERT_TRUE(m);
  const ExpertTable& table = m->expert_table();
  const int32_t layer = first_moe_layer(table);
  ASSERT_GE(layer, 0);
  const auto n_expert = static_cast<int32_t>(table[static_cast<size_t>(layer)].n_expert());
  ASSERT_GE(n_expert, 5);
  const uint64_t budget = 3 * SlabCacheStore::slot_bytes_for(table) + 100;  // three slots, not four
  for (const EvictionKind kind : {EvictionKind::kLru, EvictionKind::kLfu, EvictionKind::kScore}) {
    SCOPED_TRACE(eviction_kind_name(kind));
    auto store = SlabCacheStore::open(table, m->path(), {.budget_bytes = budget, .n_threads = 1, .policy = kind});
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_EQ((*store)->n_slots(), 3);
    auto file = PositionalFile::open(m->path());
    ASSERT_TRUE(file);
    // Expert 0 is used often (so LFU and score would like to keep it anyway); 1 and 2 are pinned and cold.
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*store)->acquire(layer, 0));
    auto a = (*store)->acquire(layer, 1), b = (*store)->acquire(layer, 2);
    ASSERT_TRUE(a && b);
    EXPECT_EQ((*store)->n_pinned(), 2);
    for (int32_t e = 3; e < n_expert; ++e) {
      auto h = (*store)->acquire(layer, e);
      ASSERT_TRUE(h) << h.error().message;
      EXPECT_TRUE(holds_file_bytes(table, *h, *file));
      EXPECT_LE((*store)->n_resident(), (*store)->n_slots());
      EXPECT_EQ((*store)->n_pinned(), 3);
    }
    EXPECT_TRUE((*store)->is_cached(layer, 1));
    EXPECT_TRUE((*store)->is_cached(layer, 2));
    EXPECT_TRUE(holds_file_bytes(table, *a, *file));
    EXPECT_TRUE(holds_file_bytes(table, *b, *file));
    // Three pinned in three slots: a fourth expert cannot come in, and says why.
    auto c = (*store)->acquire(layer, 0);
    ASSERT_TRUE(c);
    auto d = (*store)->acquire(layer, 3);
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().message.find("pinned"), std::string::npos) << d.error().message;
    c->reset();
    EXPECT_TRUE((*store)->acquire(layer, 3));
    const auto stats = *(*store)->stats();
    EXPECT_GT(stats.evictions, 0u);
    EXPECT_EQ(stats.hits + stats.misses, static_cast<uint64_t>(3 + 2 + (n_expert - 3) + 1 + 1));
  }
}

TEST(SlabCacheStore, ConcurrentAcquirersOfOneExpertShareOneRead) {
  auto m = open_model("olmoe-tiny.q8_0.gguf");
  ASSERT_TRUE(m);
  const ExpertTable& table = m->expert_table();
  const int32_t layer = first_moe_layer(table);
  const int n_threads = 8;
  auto store = SlabCacheStore::open(
      table, m->path(), {.budget_bytes = SlabCacheStore::minimum_budget(table, n_threads), .n_threads = n_threads});
  ASSERT_TRUE(store) << store.error().message;
  std::vector<std::thread> threads;
  threads.reserve(n_threads);
  std::atomic<int> failures{0};
  for (int t = 0; t < n_threads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto h = (*store)->acquire(layer, (i % 3 == 0) ? 0 : (t + i) % 4);
        if (!h) ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*store)->n_pinned(), 0);
  const auto stats = *(*store)->stats();
  EXPECT_EQ(stats.hits + stats.misses, static_cast<uint64_t>(n_threads * 50));
  // Four distinct experts fit in eight slots: each is read once, whatever the interleaving.
  EXPECT_EQ(stats.misses, 4u);
  EXPECT_EQ(stats.evictions, 0u);
}

// The reader thread only takes free slots or ones no round wants: never a pinned expert, never one the current
// round's ready_first kept, and with nothing to spare it drops the hint.
TEST(SlabCacheStore, PrefetchNeverTakesWhatIsPinnedOrWanted) {
  auto m = open_model("qwen3moe-tiny.q8_0.gguf");
  ASSERT_TRUE(m);
  const ExpertTable& table = m->expert_table();
  const int32_t layer = first_moe_layer(table);
  const auto n_expert = static_cast<int32_t>(table[static_cast<size_t>(layer)].n_expert());
  ASSERT_GE(n_expert, 8);
  const uint64_t slot = SlabCacheStore::slot_bytes_for(table);
  EXPECT_EQ(SlabCacheStore::minimum_budget(table, 2, true), 3 * slot);
  EXPECT_FALSE(SlabCacheStore::open(table, m->path(), {.budget_bytes = 2 * slot, .n_threads = 2, .readers = 1}));
  auto store = SlabCacheStore::open(table, m->path(), {.budget_bytes = 4 * slot, .n_threads = 2, .readers = 1});
  ASSERT_TRUE(store) << store.error().message;
  SlabCacheStore& cache = **store;
  auto wait_for = [&](auto done) {
    for (int i = 0; i < 2000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return done();
  };
  // Into free slots: a hint is loaded and its first acquire counts as a prefetch hit.
  const std::vector<int32_t> first = {0, 1};
  cache.prefetch(layer, first);
  ASSERT_TRUE(wait_for([&] { return cache.is_cached(layer, 0) && cache.is_cached(layer, 1); }));
  {
    std::vector<int32_t> round = {0, 1};
    EXPECT_EQ(cache.ready_first(layer, round), 2u);
    auto a = cache.acquire(layer, 0), b = cache.acquire(layer, 1);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(cache.stats()->prefetch_hits, 2u);
    EXPECT_EQ(cache.stats()->misses, 0u);
    // 0 and 1 pinned, 2 and 3 wanted by this round: the hint finds nothing to spare and is dropped.
    ASSERT_TRUE(cache.acquire(layer, 2) && cache.acquire(layer, 3));
    std::vector<int32_t> more = {4, 5, 6};
    cache.prefetch(layer, more);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (int32_t e = 0; e < 4; ++e) EXPECT_TRUE(cache.is_cached(layer, e)) << e;
    EXPECT_FALSE(cache.is_cached(layer, 4));
    EXPECT_LE(cache.n_resident(), cache.n_slots());
  }
  // A new round: 2 and 3 are no longer wanted, so a hint may replace them; 0 and 1 stay if it is kept small.
  std::vector<int32_t> round = {0, 1};
  cache.ready_first(layer, round);
  auto a = cache.acquire(layer, 0), b = cache.acquire(layer, 1);
  std::vector<int32_t> next = {6, 7};
  cache.prefetch(layer, next);
  ASSERT_TRUE(wait_for([&] { return cache.is_cached(layer, 6) && cache.is_cached(layer, 7); }));
  EXPECT_TRUE(cache.is_cached(layer, 0));
  EXPECT_TRUE(cache.is_cached(layer, 1));
  EXPECT_EQ(cache.stats()->prefetches, 4u);
}

// Reader threads load a layer's misses as soon as ready_first names them, with O_DIRECT or buffered reads: the
// experts hold the file's bytes, and each counts once as a miss (not a hit, not a prefetch).
TEST(SlabCacheStore, ReadersLoadTheLayersMissesWhichCountAsMisses) {
  auto m = open_model("qwen3moe-tiny.q8_0.gguf");
  ASSERT_TRUE(m);
  const ExpertTable& table = m->expert_table();
  const int32_t layer = first_moe_layer(table);
  ASSERT_GE(layer, 0);
  const auto n_expert = static_cast<int32_t>(table[static_cast<size_t>(layer)].n_expert());
  auto file = PositionalFile::open(m->path());
  ASSERT_TRUE(file);
  for (const ExpertReads reads : {ExpertReads::kDirect, ExpertReads::kDropCache, ExpertReads::kBuffered}) {
    SCOPED_TRACE(expert_reads_name(reads));
    const uint64_t budget = static_cast<uint64_t>(n_expert + 3) * SlabCacheStore::slot_bytes_for(table, reads);
    auto store =
        SlabCacheStore::open(table, m->path(), {.budget_bytes = budget, .n_threads = 1, .readers = 3, .reads = reads});
    ASSERT_TRUE(store) << store.error().message;
    std::vector<int32_t> all(static_cast<size_t>(n_expert));
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ((*store)->ready_first(layer, all), 0u);  // cold: nothing ready, everything queued
    for (const int32_t e : all) {
      auto h = (*store)->acquire(layer, e);
      ASSERT_TRUE(h) << h.error().message;
      EXPECT_TRUE(holds_file_bytes(table, *h, *file));
    }
    auto st = *(*store)->stats();
    EXPECT_EQ(st.misses, static_cast<uint64_t>(n_expert));
    EXPECT_EQ(st.hits, 0u);
    EXPECT_EQ(st.prefetches, 0u);
    // The next round finds them all.
    EXPECT_EQ((*store)->ready_first(layer, all), all.size());
    for (const int32_t e : all) ASSERT_TRUE((*store)->acquire(layer, e));
    st = *(*store)->stats();
    EXPECT_EQ(st.hits, static_cast<uint64_t>(n_expert));
    EXPECT_EQ(st.misses, static_cast<uint64_t>(n_expert));
    EXPECT_EQ((*store)->n_pinned(), 0);
  }
}

TEST(SlabCacheStore, ATruncatedFileFailsOnTheMissNamingTheFile) {
  auto m = open_model("mixtral-tiny.q8_0.gguf");
  ASSERT_TRUE(m);
  const ExpertTable& table = m->expert_table();
  const int32_t layer = first_moe_layer(table);
  // The cache reads a copy; the model keeps mapping the intact original.
  const auto copy = test::scratch_dir("truncated_experts") / "model.gguf";
  std::filesystem::copy_file(m->path(), copy, std::filesystem::copy_options::overwrite_existing);
  auto store =
      SlabCacheStore::open(table, copy, {.budget_bytes = SlabCacheStore::minimum_budget(table, 2), .n_threads = 2});
  ASSERT_TRUE(store) << store.error().message;
  // Cut the file inside expert 1's gate slab of the first MoE layer.
  const ExpertSlab cut = table[static_cast<size_t>(layer)].gate.slab(1);
  std::filesystem::resize_file(copy, cut.offset + cut.bytes / 2);
  auto r = (*store)->acquire(layer, 1);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(copy.string()), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("expert 1"), std::string::npos) << r.error().message;
  EXPECT_EQ((*store)->n_resident(), 0);  // the failed slot is free again
  // Opening on a file that already lacks expert bytes is refused up front.
  EXPECT_FALSE(
      SlabCacheStore::open(table, copy, {.budget_bytes = SlabCacheStore::minimum_budget(table, 2), .n_threads = 2}));
}

}  // namespace
}  // namespace sy::moe
