#include "moe/cache/score_policy.h"

#include <algorithm>
#include <cmath>

namespace sy::moe {

ScorePolicy::ScorePolicy(int32_t rounds_per_step) : half_life_(kHalfLifeSteps * std::max(1, rounds_per_step)) {}

// Heat is kept as log2 at the last use, so long idle times cannot underflow it.
void ScorePolicy::on_use(ExpertUse& use, uint64_t round) const {
  if (use.uses == 0) {
    use.log2_heat = 0.0;  // heat 1
  } else {
    const double decayed = use.log2_heat - static_cast<double>(round - use.last_round) / half_life_;
    use.log2_heat = std::log2(std::exp2(decayed) + 1.0);
  }
  EvictionPolicy::on_use(use, round);
}

EvictionKey ScorePolicy::key(const ExpertUse& use, uint64_t now) const {
  if (use.uses == 0) return {.primary = -HUGE_VAL};
  return {.primary = use.log2_heat - static_cast<double>(now - use.last_round) / half_life_,
          .secondary = static_cast<double>(use.last_round)};
}

}  // namespace sy::moe
