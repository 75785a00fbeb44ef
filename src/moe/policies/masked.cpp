#include "moe/policies/masked.h"

#include <algorithm>
#include <cmath>

namespace sy::moe {

void MaskedPolicy::route(const RoutingConfig& c, const RouterOutput& in, RoutingDecision& out) {
  const auto layer = static_cast<size_t>(in.layer);
  if (layer >= disabled_.size() || disabled_[layer].empty()) return inner_->route(c, in, out);
  const std::vector<uint8_t>& off = disabled_[layer];
  const size_t E = static_cast<size_t>(c.n_expert);
  logits_.assign(in.logits, in.logits + in.n_tokens * c.n_expert);
  bias_.resize(E);
  for (size_t e = 0; e < E; ++e) {
    const bool disabled = e < off.size() && off[e] != 0;
    bias_[e] = disabled ? -INFINITY : (in.selection_bias != nullptr ? in.selection_bias[e] : 0.0f);
    if (disabled)
      for (int64_t t = 0; t < in.n_tokens; ++t) logits_[static_cast<size_t>(t) * E + e] = -INFINITY;
  }
  RouterOutput masked = in;
  masked.logits = logits_.data();
  masked.selection_bias = bias_.data();
  inner_->route(c, masked, out);
}

}  // namespace sy::moe
