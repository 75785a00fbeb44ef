// `random[:SEED]`: a baseline that ignores the router. Each token gets k distinct experts drawn uniformly
// (among those not masked: finite logit), each weighted 1/k. Deterministic for a seed and a call order.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "moe/routing.h"

namespace sy::moe {

class UniformRandomPolicy final : public RoutingPolicy {
 public:
  explicit UniformRandomPolicy(uint64_t seed, int32_t k = 0) : rng_(seed), k_(k) {}  // k 0: the model's k
  void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) override;

 private:
  std::mt19937_64 rng_;
  int32_t k_;
  std::vector<int32_t> pool_;
};

}  // namespace sy::moe
