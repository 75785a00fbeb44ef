// The engine's own contracts: caches grow on demand, a failed step leaves every sequence as it was, a
// sequence's own routing policy applies to its tokens only (and batching does not change that), and an expert
// store that reads each expert from the file at the offsets model/ publishes gives the resident store's bits.
#include "runtime/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/positional_file.h"
#include "model/model.h"
#include "moe/policies/top_k.h"
#include "support/test_support.h"

namespace sy::runtime {
namespace {

std::unique_ptr<model::Model> open_model(const char* name) {
  auto m = model::Model::open(test::conformance_dir() / "models" / name);
  EXPECT_TRUE(m) << (m ? "" : m.error().message);
  return m ? std::move(*m) : nullptr;
}

TEST(Engine, KvCacheGrowsOnDemand) {
  auto m = open_model("qwen3moe-tiny.q8_0.gguf");
  ASSERT_TRUE(m);
  Engine engine(*m, {.n_threads = 1});
  auto seq = engine.new_sequence({.n_ctx = 1 << 30});  // capped at the training context
  EXPECT_EQ(seq->n_ctx(), m->config().common.n_ctx_train);
  EXPECT_EQ(seq->cache().bytes(), 0u);  // nothing before the first token
  const int32_t token = 7;
  ASSERT_TRUE(engine.step(*seq, {&token, 1}));
  const size_t after_one = seq->cache().bytes();
  EXPECT_GT(after_one, 0u);
  EXPECT_LE(seq->cache().capacity(), 256);  // a first reservation, not the whole context
  std::vector<int32_t> many(300, 5);
  ASSERT_TRUE(engine.step(*seq, many));
  EXPECT_GE(seq->cache().capacity(), 301);
  EXPECT_LT(seq->cache().capacity(), 2 * 301 + 256);
}

TEST(Engine, FailedStepLeavesEverySequenceAsItWas) {
  auto m = open_model("qwen3moe-tiny.q8_0.gguf");
  ASSERT_TRUE(m);
  Engine engine(*m, {.n_threads = 2});
  auto a = engine.new_sequence({.n_ctx = 8}), b = engine.new_sequence({.n_ctx = 4});
  const std::vector<int32_t> three = {1, 2, 3}, five = {4, 5, 6, 7, 8};
  const std::array<Engine::Step, 2> batch = {
      {{.sequence = a.get(), .tokens = three}, {.sequence = b.get(), .tokens = five}}};
  auto r = engine.step(batch);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("context full"), std::string::npos) << r.error().message;
  EXPECT_EQ(a->pos(), 0);
  EXPECT_EQ(b->pos(), 0);
  // The same sequence twice in one batch is refused.
  const std::array<Engine::Step, 2> twice = {
      {{.sequence = a.get(), .tokens = three}, {.sequence = a.get(), .tokens = three}}};
  EXPECT_FALSE(engine.step(twice));
  EXPECT_EQ(a->pos(), 0);
}

// Records which sequence each routing event came from and its k.
class SequenceRecorder final : public moe::RoutingObserver {
 public:
  void on_routing(const moe::RoutingEvent& e) override { k_of[e.sequence] = e.decision->k; }
  std::map<int32_t, int32_t> k_of;
};

TEST(Engine, PerSequencePolicyAppliesToItsTokensOnly) {
  auto m = open_model("olmoe-tiny.q8_0.gguf");
  ASSERT_TRUE(m);
  const std::vector<int32_t> pa = {3, 9, 27, 81}, pb = {5, 25, 125};
  auto logits_alone = [&](bool override_k) {
    Engine engine(*m, {.n_threads = 2});
    auto s = engine.new_sequence({.n_ctx = 32});
    if (override_k) s->set_policy(std::make_unique<moe::TopKPolicy>(1));
    EXPECT_TRUE(engine.step(*s, override_k ? pa : pb));
    return std::vector<float>(s->logits().begin(), s->logits().end());
  };
  Engine engine(*m, {.n_threads = 2});
  auto recorder = std::make_unique<SequenceRecorder>();
  SequenceRecorder* rec = recorder.get();
  engine.add_observer(std::move(recorder));
  auto a = engine.new_sequence({.n_ctx = 32}), b = engine.new_sequence({.n_ctx = 32});
  a->set_policy(std::make_unique<moe::TopKPolicy>(1));
  const std::array<Engine::Step, 2> batch = {
      {{.sequence = a.get(), .tokens = pa}, {.sequence = b.get(), .tokens = pb}}};
  ASSERT_TRUE(engine.step(batch));
  EXPECT_EQ(rec->k_of.at(a->id()), 1);
  EXPECT_EQ(rec->k_of.at(b->id()), m->config().layers.back().ffn.moe.routing.n_used);
  EXPECT_EQ(std::vector<float>(a->logits().begin(), a->logits().end()), logits_alone(true));
  EXPECT_EQ(std::vector<float>(b->logits().begin(), b->logits().end()), logits_alone(false));
}

// Loads each acquired expert from the file with pread into memory of its own and frees it on release: the
// table of slabs model/ publishes must point at the right bytes, and the forward pass must not care where an
// expert lives. Also checks that a handle is released before the layer ends (at most one per thread held).
class FileExpertStore final : public moe::ExpertStore {
 public:
  FileExpertStore(const moe::ExpertTable& table, PositionalFile file) : table_(table), file_(std::move(file)) {}
  Result<moe::ExpertHandle> acquire(int32_t layer, int32_t expert) override {
    if (auto s = moe::check_expert_id(table_, layer, expert); !s) return tl::unexpected(s.error());
    const moe::LayerExperts& l = table_[static_cast<size_t>(layer)];
    auto bytes = std::make_unique<Loaded>();
    for (const auto* t : {&l.gate, &l.up, &l.down}) {
      const moe::ExpertSlab slab = t->slab(expert);
      auto& buf = bytes->slabs.emplace_back(slab.bytes);
      if (auto s = file_.read_at(slab.offset, buf); !s) return tl::unexpected(s.error());
    }
    const moe::ExpertWeights w =
        l.weights(expert, bytes->slabs[0].data(), bytes->slabs[1].data(), bytes->slabs[2].data());
    std::lock_guard lock(mutex_);
    loaded_[{layer, expert}] = std::move(bytes);
    max_held = std::max(max_held, static_cast<int>(loaded_.size()));
    ++acquired;
    return moe::ExpertHandle(this, layer, expert, w);
  }
  int max_held = 0, acquired = 0;

 protected:
  void release(int32_t layer, int32_t expert) noexcept override {
    std::lock_guard lock(mutex_);
    loaded_.erase({layer, expert});
  }

 private:
  struct Loaded {
    std::vector<std::vector<uint8_t>> slabs;
  };
  const moe::ExpertTable& table_;
  PositionalFile file_;
  std::mutex mutex_;
  std::map<std::pair<int32_t, int32_t>, std::unique_ptr<Loaded>> loaded_;
};

TEST(Engine, ExpertsReadFromTheFileGiveTheResidentBits) {
  for (const char* name : {"qwen3moe-kq.q4_k_m.gguf", "gpt-oss-tiny.mxfp4_moe.gguf", "deepseek3-tiny.q8_0.gguf"}) {
    SCOPED_TRACE(name);
    auto m = open_model(name);
    ASSERT_TRUE(m);
    auto file = PositionalFile::open(test::conformance_dir() / "models" / name);
    ASSERT_TRUE(file) << file.error().message;
    FileExpertStore store(m->expert_table(), std::move(*file));
    const std::vector<int32_t> prompt = {11, 22, 33, 44, 55, 66};
    auto run = [&](moe::ExpertStore* s) {
      Engine engine(*m, {.n_threads = 2});
      engine.set_expert_store(s);
      auto seq = engine.new_sequence({.n_ctx = 16});
      EXPECT_TRUE(engine.step(*seq, prompt));
      return std::vector<float>(seq->logits().begin(), seq->logits().end());
    };
    EXPECT_EQ(run(&store), run(nullptr));
    EXPECT_GT(store.acquired, 0);
    EXPECT_LE(store.max_held, 2);  // one per thread of the pool
  }
}

TEST(PositionalFile, RefusesDirectoriesAndReadsPastTheEnd) {
  EXPECT_FALSE(PositionalFile::open(test::conformance_dir()));
  auto f = PositionalFile::open(test::conformance_dir() / "models" / "qwen3moe-tiny.q8_0.gguf");
  ASSERT_TRUE(f);
  std::vector<uint8_t> four(4);
  ASSERT_TRUE(f->read_at(0, four));
  EXPECT_EQ(std::string(four.begin(), four.end()), "GGUF");
  auto r = f->read_at(f->size() - 2, four);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("ends at"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace sy::runtime
