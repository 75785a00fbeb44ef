// With experts in a small cache (a quarter of their bytes, so it evicts all the time) every conformance model
// and the bundled model give bit for bit the logits of the resident mapping: the prompt's rows and several
// greedy decode steps, on two threads (concurrent misses) and for every eviction policy. The cache must also
// stay inside its budget and really have worked (misses and evictions).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "model/model.h"
#include "moe/cache/slab_cache_store.h"
#include "runtime/engine.h"
#include "runtime/expert_cache_setup.h"
#include "runtime/sampler.h"
#include "support/test_support.h"

namespace sy {
namespace {

constexpr int kDecodeSteps = 4;
constexpr int kThreads = 2;

// Prompt logits (every row), then the last row of each greedy decode step.
// Either `store` or, through the command line's setup, `options` (nullptr: resident).
std::vector<std::vector<float>> run(const model::Model& m, std::unique_ptr<moe::ExpertStore> store,
                                    const runtime::ExpertCacheOptions* options = nullptr,
                                    moe::ExpertStoreStats* stats = nullptr) {
  runtime::Engine engine(m, {.n_threads = kThreads});
  if (store) engine.adopt_expert_store(std::move(store));
  if (options) {
    auto st = runtime::apply_expert_cache(engine, *options, nullptr);
    EXPECT_TRUE(st) << (st ? "" : st.error().message);
  }
  auto seq = engine.new_sequence({.n_ctx = 64});
  const auto V = static_cast<int32_t>(engine.n_vocab());
  const std::vector<int32_t> prompt = {1 % V, 17 % V, 230 % V, 4 % V, 99 % V, 7 % V, 1234 % V};
  std::vector<std::vector<float>> out;
  EXPECT_TRUE(engine.step(*seq, prompt));
  out.emplace_back(seq->logits().begin(), seq->logits().end());
  for (int s = 0; s < kDecodeSteps; ++s) {
    const int32_t next = runtime::argmax(seq->logits().last(static_cast<size_t>(V)));
    auto st = engine.step(*seq, std::span<const int32_t>(&next, 1));
    EXPECT_TRUE(st) << (st ? "" : st.error().message);
    out.emplace_back(seq->logits().begin(), seq->logits().end());
  }
  if (stats && engine.expert_store().stats()) *stats = *engine.expert_store().stats();
  return out;
}

class ExpertCacheConformance : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(ExpertCacheConformance, AQuarterSizedCacheGivesTheResidentBits) {
  ASSERT_FALSE(GetParam().empty()) << "no conformance models in " << test::conformance_dir();
  auto m = model::Model::open(GetParam());
  ASSERT_TRUE(m) << m.error().message;
  const moe::ExpertTable& table = (*m)->expert_table();
  const uint64_t slot = moe::SlabCacheStore::slot_bytes_for(table);
  ASSERT_GT(slot, 0u) << "no routed experts";
  const auto resident = run(**m, nullptr);
  // Synchronous buffered reads by the compute threads, and O_DIRECT reads by reader threads that load a layer's
  // misses while its cached experts compute (the defaults of --expert-cache).
  struct Io {
    moe::ExpertReads reads;
    int readers;
  };
  for (const Io io : {Io{moe::ExpertReads::kBuffered, 0}, Io{moe::ExpertReads::kDirect, 2}}) {
    SCOPED_TRACE(fmt::format("{} reads, {} readers", moe::expert_reads_name(io.reads), io.readers));
    const uint64_t budget = std::max(moe::routed_expert_bytes(table) / 4,
                                     moe::SlabCacheStore::minimum_budget(table, kThreads, io.readers, io.reads));
    for (const auto kind : {moe::EvictionKind::kLru, moe::EvictionKind::kLfu, moe::EvictionKind::kScore}) {
      SCOPED_TRACE(moe::eviction_kind_name(kind));
      auto store = moe::SlabCacheStore::open(
          table, (*m)->path(),
          {.budget_bytes = budget, .n_threads = kThreads, .policy = kind, .readers = io.readers, .reads = io.reads});
      ASSERT_TRUE(store) << store.error().message;
      moe::SlabCacheStore* cache = store->get();
      EXPECT_LE(static_cast<uint64_t>(cache->n_slots()) * cache->slot_bytes(), budget);
      const auto cached = run(**m, std::move(*store));
      ASSERT_EQ(cached.size(), resident.size());
      for (size_t s = 0; s < resident.size(); ++s) ASSERT_EQ(cached[s], resident[s]) << "step " << s;
    }
  }
}

// The reader thread loads next-layer guesses while layers compute, concurrently with two acquiring threads:
// still the resident bits, whatever it guessed and whenever its reads finish.
TEST_P(ExpertCacheConformance, GatePrefetchGivesTheResidentBits) {
  ASSERT_FALSE(GetParam().empty()) << "no conformance models in " << test::conformance_dir();
  auto m = model::Model::open(GetParam());
  ASSERT_TRUE(m) << m.error().message;
  const moe::ExpertTable& table = (*m)->expert_table();
  const uint64_t budget =
      std::max(moe::routed_expert_bytes(table) / 4,
               moe::SlabCacheStore::minimum_budget(table, kThreads, /*readers=*/4, moe::ExpertReads::kDirect));
  const auto resident = run(**m, nullptr);
  for (const char* policy : {"lru", "score"}) {
    SCOPED_TRACE(policy);
    const runtime::ExpertCacheOptions options{.size = std::to_string(budget), .policy = policy, .prefetch = "gate"};
    moe::ExpertStoreStats stats;
    const auto cached = run(**m, nullptr, &options, &stats);
    ASSERT_EQ(cached.size(), resident.size());
    for (size_t s = 0; s < resident.size(); ++s) ASSERT_EQ(cached[s], resident[s]) << "step " << s;
    EXPECT_GT(stats.hits + stats.misses, 0u);
  }
}

// The stats of one cached run: it must have missed and evicted (a quarter cannot hold the working set).
TEST_P(ExpertCacheConformance, TheQuarterCacheWorksHard) {
  ASSERT_FALSE(GetParam().empty()) << "no conformance models in " << test::conformance_dir();
  auto m = model::Model::open(GetParam());
  ASSERT_TRUE(m) << m.error().message;
  const moe::ExpertTable& table = (*m)->expert_table();
  const uint64_t budget =
      std::max(moe::routed_expert_bytes(table) / 4, moe::SlabCacheStore::minimum_budget(table, kThreads));
  auto store = moe::SlabCacheStore::open(table, (*m)->path(), {.budget_bytes = budget, .n_threads = kThreads});
  ASSERT_TRUE(store) << store.error().message;
  runtime::Engine engine(**m, {.n_threads = kThreads});
  moe::SlabCacheStore* cache = store->get();
  engine.adopt_expert_store(std::move(*store));
  auto seq = engine.new_sequence({.n_ctx = 64});
  std::vector<int32_t> prompt(16);
  for (size_t i = 0; i < prompt.size(); ++i)
    prompt[i] = static_cast<int32_t>((i * 37 + 5) % static_cast<size_t>(engine.n_vocab()));
  ASSERT_TRUE(engine.step(*seq, prompt));
  const auto stats = *cache->stats();
  EXPECT_GT(stats.misses, 0u);
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_GT(stats.bytes_read, 0u);
  EXPECT_LE(cache->n_resident(), cache->n_slots());
  EXPECT_EQ(cache->n_pinned(), 0);
}

std::vector<std::filesystem::path> all_models() {
  auto models = test::conformance_model_params();
  models.push_back(std::filesystem::path(SY_SOURCE_DIR) / "models" / "switchyard-moe-mini.q8_0.gguf");
  return models;
}

std::string model_name(const ::testing::TestParamInfo<std::filesystem::path>& info) {
  return test::model_param_name(info.param);
}

INSTANTIATE_TEST_SUITE_P(AllModels, ExpertCacheConformance, ::testing::ValuesIn(all_models()), model_name);

}  // namespace
}  // namespace sy
