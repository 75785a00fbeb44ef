// `top-k:K`: the native rule (gating, selection bias, groups, normalisation, scale) with K experts per token
// instead of the model's k.
#pragma once

#include "moe/routing.h"

namespace sy::moe {

class TopKPolicy final : public RoutingPolicy {
 public:
  explicit TopKPolicy(int32_t k) : k_(k) {}
  // K must not exceed the experts the native rule can reach (all, or those of the kept groups); checked
  // where the policy is built (routing_spec.cpp), asserted here.
  void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) override;

 private:
  int32_t k_;
  NativeRoutingPolicy native_;
};

}  // namespace sy::moe
