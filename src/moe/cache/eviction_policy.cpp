#include "moe/cache/eviction_policy.h"

#include "moe/cache/lfu_policy.h"
#include "moe/cache/lru_policy.h"
#include "moe/cache/score_policy.h"

namespace sy::moe {

void EvictionPolicy::on_use(ExpertUse& use, uint64_t round) const {
  ++use.uses;
  use.last_round = round;
}

Result<EvictionKind> parse_eviction_kind(std::string_view name) {
  if (name == "lru") return EvictionKind::kLru;
  if (name == "lfu") return EvictionKind::kLfu;
  if (name == "score") return EvictionKind::kScore;
  return fail(ErrorCode::kInvalidInput, "unknown expert cache policy '{}' (lru, lfu or score)", name);
}

std::string_view eviction_kind_name(EvictionKind kind) {
  switch (kind) {
    case EvictionKind::kLru: return "lru";
    case EvictionKind::kLfu: return "lfu";
    case EvictionKind::kScore: return "score";
  }
  return "?";
}

std::unique_ptr<EvictionPolicy> make_eviction_policy(EvictionKind kind, int32_t rounds_per_step) {
  switch (kind) {
    case EvictionKind::kLru: return std::make_unique<LruPolicy>();
    case EvictionKind::kLfu: return std::make_unique<LfuPolicy>();
    case EvictionKind::kScore: return std::make_unique<ScorePolicy>(rounds_per_step);
  }
  return std::make_unique<LruPolicy>();
}

}  // namespace sy::moe
