// `top-p:P[:MIN[:MAX]][:renorm]` — the native rule with a dynamic k, after "Harder Tasks Need More Experts"
// (reference B1). Per token, as the native rule: the same gating, selection bias and group limit
// (NativeGate). Then, over the experts still allowed (not masked, not in a dropped group), ordered by the
// native selection score: keep the experts whose cumulative probability mass is <= P plus the next one (the
// expert that crosses P is kept, so at least one is), and clamp the count to [MIN, MAX]. The mass of an
// expert is its probability normalised over the allowed experts: softmax over the allowed logits for softmax
// and softmax-over-selected routers, the sigmoid scores divided by their sum for sigmoid routers. A selection
// bias orders the experts but adds no mass. The weights are then made as the native rule makes them for the
// chosen experts (native_weights: unbiased probabilities, softmax over the chosen for softmax-over-selected,
// renormalised if the model renormalises, times the routed scaling factor); `renorm` renormalises them even
// when the model does not. So with P such that the count equals the model's k, the decision is the native one.
// The decision has as many slots as the widest token of the batch; narrower tokens are padded with kNoExpert.
#pragma once

#include <vector>

#include "moe/routing.h"

namespace sy::moe {

struct TopPParams {
  float p = 0.4f;   // mass threshold, (0, 1]
  int32_t min = 1;  // at least this many experts
  int32_t max = 0;  // at most this many (0: all experts)
  bool renormalize = false;
};

class TopPPolicy final : public RoutingPolicy {
 public:
  explicit TopPPolicy(const TopPParams& params) : params_(params) {}
  void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) override;

 private:
  TopPParams params_;
  NativeGate gate_;
  std::vector<float> mass_;
  std::vector<int32_t> order_;
};

}  // namespace sy::moe
