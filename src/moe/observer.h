// Observers of routing decisions (traces, statistics, prefetch predictors). The forward pass notifies a
// list; with the list empty nothing is computed or copied for them.
#pragma once

#include <cstdint>
#include <vector>

#include "moe/routing.h"

namespace sy::moe {

struct RoutingEvent {
  int32_t layer = 0;
  int64_t pos0 = 0;  // position of the first token of the batch
  const RoutingDecision* decision = nullptr;
  const float* hidden = nullptr;  // [n_tokens][n_embd]: the normed input the router saw
  int64_t n_embd = 0;
  const float* logits = nullptr;          // [n_tokens][config->n_expert]: router logits (router bias added)
  const RoutingConfig* config = nullptr;  // the layer's native routing rule (gating kind, k)
  int32_t sequence = 0;                   // which sequence of the batch these tokens belong to
};

class RoutingObserver {
 public:
  virtual ~RoutingObserver() = default;
  // Called on the forward pass's thread, after the decision and before the experts run.
  virtual void on_routing(const RoutingEvent& event) = 0;
};

class ObserverList {
 public:
  void add(RoutingObserver* observer) { observers_.push_back(observer); }
  void remove(RoutingObserver* observer) { std::erase(observers_, observer); }
  bool empty() const { return observers_.empty(); }
  void notify(const RoutingEvent& event) const {
    for (RoutingObserver* o : observers_) o->on_routing(event);
  }

 private:
  std::vector<RoutingObserver*> observers_;  // not owned
};

}  // namespace sy::moe
