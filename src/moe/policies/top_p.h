// `top-p:P[:MIN[:MAX]][:renorm]` — dynamic routing of "Harder Tasks Need More Experts" (reference B1): per
// token, sort the router probabilities in decreasing order and keep the experts whose cumulative mass is
// <= P plus the next one (the expert that crosses P is kept, so at least one is), then clamp the count to
// [MIN, MAX]. Weights are the raw probabilities, as in the paper, or renormalised to sum 1 with `renorm`.
// The decision has as many slots as the widest token of the batch; narrower tokens are padded with
// kNoExpert.
//
// Probabilities are softmax(logits) for softmax and softmax-over-selected routers and the sigmoid scores
// divided by their sum for sigmoid routers. A selection bias (and a mask, which arrives as a -inf bias)
// orders the experts but adds no mass.
#pragma once

#include <vector>

#include "moe/routing.h"

namespace sy::moe {

struct TopPParams {
  float p = 0.4f;         // mass threshold, (0, 1]
  int32_t min = 1;        // at least this many experts
  int32_t max = 0;        // at most this many (0: all experts)
  bool renormalize = false;
};

class TopPPolicy final : public RoutingPolicy {
 public:
  explicit TopPPolicy(const TopPParams& params) : params_(params) {}
  void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) override;

 private:
  TopPParams params_;
  std::vector<float> probs_;
  std::vector<int32_t> order_;
};

}  // namespace sy::moe
