#include "moe/policies/biased.h"

namespace sy::moe {

void BiasedPolicy::route(const RoutingConfig& c, const RouterOutput& in, RoutingDecision& out) {
  const auto layer = static_cast<size_t>(in.layer);
  if (layer >= bias_.size() || bias_[layer].empty()) return inner_->route(c, in, out);
  const std::vector<float>& b = bias_[layer];
  sum_.resize(b.size());
  for (size_t e = 0; e < b.size(); ++e) sum_[e] = b[e] + (in.selection_bias != nullptr ? in.selection_bias[e] : 0.0f);
  RouterOutput biased = in;
  biased.selection_bias = sum_.data();
  inner_->route(c, biased, out);
}

}  // namespace sy::moe
