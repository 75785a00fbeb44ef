// Least recently used: the expert whose last round is oldest goes first.
#pragma once

#include "moe/cache/eviction_policy.h"

namespace sy::moe {

class LruPolicy final : public EvictionPolicy {
 public:
  std::string_view name() const override { return "lru"; }
  EvictionKey key(const ExpertUse& use, uint64_t) const override {
    return {.primary = static_cast<double>(use.last_round)};
  }
};

}  // namespace sy::moe
