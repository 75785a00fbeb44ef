// One engine with one sequence: what a command that runs a single text needs (run, chat, logits, generate,
// perplexity, bench). Prefill feeds a whole prompt as one batch; decode feeds one token at a time. A server or
// anything that runs several sequences uses Engine and Sequence directly. Not thread-safe: one caller.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/error.h"
#include "model/model.h"
#include "moe/observer.h"
#include "moe/routing.h"
#include "runtime/engine.h"

namespace sy::runtime {

struct SessionOptions {
  int64_t n_ctx = 4096;  // capped at the model's training context when that is smaller
  int n_threads = 1;
};

class Session {
 public:
  Session(const model::Model& model, const SessionOptions& options);

  using Logits = Engine::Logits;
  // Runs `tokens` at the current position and appends them to the sequence. logits: [n_tokens][n_vocab], or
  // [1][n_vocab] for the last token only with Logits::kLast (what generation needs).
  Status eval(std::span<const int32_t> tokens, std::vector<float>& logits, Logits which = Logits::kAll);

  int64_t pos() const { return sequence_->pos(); }
  int64_t n_ctx() const { return sequence_->n_ctx(); }
  int64_t n_vocab() const { return engine_.n_vocab(); }
  const std::vector<int32_t>& history() const { return sequence_->history(); }
  void reset() { sequence_->reset(); }

  Engine& engine() { return engine_; }
  Sequence& sequence() { return *sequence_; }
  const model::Model& model() const { return engine_.model(); }
  // The engine's routing and observers (a session has one sequence, so they are its own).
  void set_policy(std::unique_ptr<moe::RoutingPolicy> policy) { engine_.set_policy(std::move(policy)); }
  void add_observer(std::unique_ptr<moe::RoutingObserver> observer) { engine_.add_observer(std::move(observer)); }
  moe::ObserverList& observers() { return engine_.observers(); }
  void set_expert_store(moe::ExpertStore* store) { engine_.set_expert_store(store); }

 private:
  Engine engine_;
  std::unique_ptr<Sequence> sequence_;
};

}  // namespace sy::runtime
