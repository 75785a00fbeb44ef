#include "moe/policies/cache_aware.h"

#include "moe/expert_store.h"

namespace sy::moe {

void CacheAwarePolicy::route(const RoutingConfig& c, const RouterOutput& in, RoutingDecision& out) {
  const auto n = static_cast<size_t>(c.n_expert);
  cached_.resize(n);
  if (bonus_ == 0.0f || in.store == nullptr || !in.store->cached_experts(in.layer, cached_))
    return inner_->route(c, in, out);
  bias_.resize(n);
  for (size_t e = 0; e < n; ++e)
    bias_[e] = (in.selection_bias != nullptr ? in.selection_bias[e] : 0.0f) + (cached_[e] != 0 ? bonus_ : 0.0f);
  RouterOutput biased = in;
  biased.selection_bias = bias_.data();
  inner_->route(c, biased, out);
}

}  // namespace sy::moe
