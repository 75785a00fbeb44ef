// `--route cache-aware:B`: routing that knows the memory. Before the inner policy chooses, B is added to the
// selection score of every expert whose bytes are in the expert cache now, so a near-tie between a cached and a
// missing expert goes to the cached one and the token reads less from the disk. Like a selection bias it moves
// the choice only: the chosen experts' weights are the model's own probabilities. B = 0, or a store that holds
// every expert (the resident mapping), changes nothing. The choice now depends on what the cache holds, so with
// reader threads or prefetch a run is no longer reproducible bit for bit.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "moe/routing.h"

namespace sy::moe {

class CacheAwarePolicy final : public RoutingPolicy {
 public:
  CacheAwarePolicy(float bonus, std::unique_ptr<RoutingPolicy> inner) : bonus_(bonus), inner_(std::move(inner)) {}
  void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) override;

 private:
  float bonus_;
  std::unique_ptr<RoutingPolicy> inner_;
  std::vector<uint8_t> cached_;
  std::vector<float> bias_;
};

}  // namespace sy::moe
