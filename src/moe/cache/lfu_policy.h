// Least frequently used: fewest uses since the store opened (counted while evicted too), then least recently
// used — moe::analysis's LFU, so the simulator predicts this cache exactly.
#pragma once

#include "moe/cache/eviction_policy.h"

namespace sy::moe {

class LfuPolicy final : public EvictionPolicy {
 public:
  std::string_view name() const override { return "lfu"; }
  EvictionKey key(const ExpertUse& use, uint64_t) const override {
    return {.primary = static_cast<double>(use.uses), .secondary = static_cast<double>(use.last_round)};
  }
};

}  // namespace sy::moe
