// One sequence being run: its KV cache, thread pool, routing policy, expert store and observers. Prefill
// feeds a whole prompt as one batch; decode feeds one token at a time. Not thread-safe: one caller.
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

struct SessionOptions {
  int64_t n_ctx = 4096;  // capped at the model's training context when that is smaller
  int n_threads = 1;
};

class Session {
 public:
  Session(const model::Model& model, const SessionOptions& options);

  enum class Logits { kAll, kLast };
  // Runs `tokens` at the current position and appends them to the sequence. logits: [n_tokens][n_vocab], or
  // [1][n_vocab] for the last token only with Logits::kLast (what generation needs).
  Status eval(std::span<const int32_t> tokens, std::vector<float>& logits, Logits which = Logits::kAll);

  int64_t pos() const { return pos_; }
  int64_t n_ctx() const { return cache_.n_ctx(); }
  int64_t n_vocab() const { return model_.config().common.n_vocab; }
  const std::vector<int32_t>& history() const { return history_; }
  void reset();

  // The native policy unless replaced; the store is the model's resident one unless replaced (not owned).
  void set_policy(moe::RoutingPolicy* policy) { policy_ = policy != nullptr ? policy : &native_; }
  // The same, owned by the session (routing options built from the command line or a request).
  void set_policy(std::unique_ptr<moe::RoutingPolicy> policy) {
    owned_policy_ = std::move(policy);
    set_policy(owned_policy_.get());
  }
  // Adds an observer the session owns (a trace writer, a predictor); observers are notified in the order added.
  void add_observer(std::unique_ptr<moe::RoutingObserver> observer) {
    observers_.add(observer.get());
    owned_observers_.push_back(std::move(observer));
  }
  const model::Model& model() const { return model_; }
  void set_expert_store(moe::ExpertStore* store) { store_ = store != nullptr ? store : &model_.resident_experts(); }
  moe::ObserverList& observers() { return observers_; }

 private:
  const model::Model& model_;
  ThreadPool pool_;
  model::KvCache cache_;
  moe::NativeRoutingPolicy native_;
  moe::RoutingPolicy* policy_;
  moe::ExpertStore* store_;
  moe::ObserverList observers_;
  std::unique_ptr<moe::RoutingPolicy> owned_policy_;
  std::vector<std::unique_ptr<moe::RoutingObserver>> owned_observers_;
  int64_t pos_ = 0;
  std::vector<int32_t> history_;
};

}  // namespace sy::runtime
