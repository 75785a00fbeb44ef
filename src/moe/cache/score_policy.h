// Recency and frequency in one number: each use adds 1 to a heat that halves every `half_life` rounds, and the
// coolest expert goes first (LRFU). An expert used often a while ago can outlast one used once just now, and
// unlike LFU old popularity fades. Router weights are not part of the score yet: ExpertStore::acquire does
// not receive them (docs/expert-cache.md).
#pragma once

#include "moe/cache/eviction_policy.h"

namespace sy::moe {

class ScorePolicy final : public EvictionPolicy {
 public:
  // rounds_per_step: MoE layers per forward pass; the half-life is kHalfLifeSteps of them.
  explicit ScorePolicy(int32_t rounds_per_step);
  std::string_view name() const override { return "score"; }
  void on_use(ExpertUse& use, uint64_t round) const override;
  EvictionKey key(const ExpertUse& use, uint64_t now) const override;

  static constexpr double kHalfLifeSteps = 4.0;

 private:
  double half_life_;  // rounds
};

}  // namespace sy::moe
