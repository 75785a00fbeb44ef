#include "moe/policies/top_k.h"

#include <cassert>

namespace sy::moe {

void TopKPolicy::route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) {
  RoutingConfig c = config;
  c.n_used = k_;
  assert(k_ >= 1 && k_ <= c.n_expert && "routing_spec validates K against the layer");
  native_.route(c, in, out);
}

}  // namespace sy::moe
