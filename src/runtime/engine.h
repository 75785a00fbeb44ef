// The engine: one loaded model, one thread pool, the expert store, the routing setup and the observers, shared
// by any number of sequences. step() runs one forward pass over a batch that spans several sequences: MoE layers
// group the tokens of all of them by expert, so tokens of different sequences that pick the same expert share
// one read of its weights; attention stays per sequence. Each sequence's logits are bit for bit what it would
// get alone (tests/conformance/batch_invariance_test.cpp).
//
//   runtime::Engine engine(*model, {.n_threads = 2});
//   auto a = engine.new_sequence({.n_ctx = 4096}), b = engine.new_sequence({.n_ctx = 4096});
//   std::array<runtime::Engine::Step, 2> batch = {{{a.get(), prompt_a}, {b.get(), prompt_b}}};
//   engine.step(batch);   // then a->logits(), b->logits()
//
// Thread-safety: one thread drives an engine (step, configuration); sequences belong to their engine and must
// not outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "model/forward.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "moe/observer.h"
#include "moe/routing.h"

namespace sy::runtime {

class Engine;

struct SequenceOptions {
  int64_t n_ctx = 4096;  // capped at the model's training context when that is smaller; the cache grows on demand
};

// One sequence: its KV cache (grown on demand up to its context), position, token history, the logits of its
// last step, and optional routing overrides of its own (a policy, observers) that apply to its tokens only.
class Sequence {
 public:
  Sequence(const Engine& engine, const SequenceOptions& options, int32_t id);

  int32_t id() const { return id_; }
  int64_t pos() const { return pos_; }
  int64_t n_ctx() const { return cache_.n_ctx(); }
  const std::vector<int32_t>& history() const { return history_; }
  // [n][n_vocab] of the last step: every token's row, or only the last token's.
  std::span<const float> logits() const { return logits_; }
  // [n][n_embd] of the last step when it asked for them (Step::hidden), else empty: the same rows' final hidden
  // state after the output norm (the output matrix's input).
  std::span<const float> hidden() const { return hidden_; }
  const model::KvCache& cache() const { return cache_; }
  // Forgets every position (the cache keeps its memory for reuse).
  void reset();
  // Keeps the first n positions (n <= pos()) and forgets the rest, so a later step continues from position n: a
  // server reuses a previous request's prompt prefix this way. The logits of the last step are dropped.
  void truncate(int64_t n);

  // This sequence's own policy instead of the engine's (nullptr: the engine's again).
  void set_policy(std::unique_ptr<moe::RoutingPolicy> policy) { policy_ = std::move(policy); }
  moe::RoutingPolicy* policy() const { return policy_.get(); }
  // Observers of this sequence's routing only, notified after the engine's.
  void add_observer(std::unique_ptr<moe::RoutingObserver> observer);
  const moe::ObserverList& observers() const { return observers_; }

 private:
  friend class Engine;
  int32_t id_;
  model::KvCache cache_;
  int64_t pos_ = 0;
  std::vector<int32_t> history_;
  std::vector<float> logits_;
  std::vector<float> hidden_;
  std::unique_ptr<moe::RoutingPolicy> policy_;
  moe::ObserverList observers_;
  std::vector<std::unique_ptr<moe::RoutingObserver>> owned_observers_;
};

struct EngineOptions {
  int n_threads = 1;
};

class Engine {
 public:
  Engine(const model::Model& model, const EngineOptions& options);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const model::Model& model() const { return model_; }
  int64_t n_vocab() const { return model_.config().common.n_vocab; }
  ThreadPool& pool() { return pool_; }

  std::unique_ptr<Sequence> new_sequence(const SequenceOptions& options);

  enum class Logits { kAll, kLast };
  struct Step {
    Sequence* sequence = nullptr;
    std::span<const int32_t> tokens;  // appended at the sequence's position
    Logits logits = Logits::kAll;
    bool hidden = false;  // also keep the rows' normed final hidden state (Sequence::hidden)
  };
  // One forward pass over every step's tokens. On success each sequence has advanced and holds the logits of
  // its tokens; on failure (a full context, a token outside the vocabulary: checked before anything is
  // computed, or a store error) no sequence has advanced.
  Status step(std::span<const Step> batch);
  // One sequence alone.
  Status step(Sequence& sequence, std::span<const int32_t> tokens, Logits which = Logits::kAll);

  // The policy for sequences without their own: the native rule unless replaced.
  void set_policy(std::unique_ptr<moe::RoutingPolicy> policy);
  moe::RoutingPolicy& policy() { return *policy_; }
  // Observers of every sequence's routing (a trace, statistics, a predictor), notified in the order added.
  void add_observer(std::unique_ptr<moe::RoutingObserver> observer);
  moe::ObserverList& observers() { return observers_; }
  // The store experts come from: the model's resident one unless replaced (not owned; nullptr: resident).
  void set_expert_store(moe::ExpertStore* store);
  // The same, owned by the engine (a cache built for it): destroyed with the engine, after every step.
  void adopt_expert_store(std::unique_ptr<moe::ExpertStore> store);
  moe::ExpertStore& expert_store() { return *store_; }

 private:
  const model::Model& model_;
  ThreadPool pool_;
  moe::NativeRoutingPolicy native_;
  std::unique_ptr<moe::RoutingPolicy> owned_policy_;
  moe::RoutingPolicy* policy_;
  moe::ExpertStore* store_;
  std::unique_ptr<moe::ExpertStore> owned_store_;
  moe::ObserverList observers_;
  std::vector<std::unique_ptr<moe::RoutingObserver>> owned_observers_;
  model::ForwardScratch scratch_;
  std::vector<model::SequenceInput> inputs_;
  int32_t next_sequence_id_ = 0;
};

}  // namespace sy::runtime
