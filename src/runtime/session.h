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

  // Runs `tokens` at the current position and appends them to the sequence. logits: [n_tokens][n_vocab].
  Status eval(std::span<const int32_t> tokens, std::vector<float>& logits);

  int64_t pos() const { return pos_; }
  int64_t n_ctx() const { return cache_.n_ctx(); }
  int64_t n_vocab() const { return model_.config().common.n_vocab; }
  const std::vector<int32_t>& history() const { return history_; }
  void reset();

  // The native policy unless replaced; the store is the model's resident one unless replaced (not owned).
  void set_policy(moe::RoutingPolicy* policy) { policy_ = policy != nullptr ? policy : &native_; }
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
  int64_t pos_ = 0;
  std::vector<int32_t> history_;
};

}  // namespace sy::runtime
