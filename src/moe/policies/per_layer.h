// One policy per layer: routes layer l with policies[l], or with the fallback where that is null or past
// the table. This is how a Session takes "a policy per layer" without the forward pass knowing.
#pragma once

#include <memory>
#include <vector>

#include "moe/routing.h"

namespace sy::moe {

class PerLayerPolicy final : public RoutingPolicy {
 public:
  PerLayerPolicy(std::vector<std::shared_ptr<RoutingPolicy>> per_layer, std::shared_ptr<RoutingPolicy> fallback)
      : per_layer_(std::move(per_layer)), fallback_(std::move(fallback)) {}
  void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) override {
    const auto l = static_cast<size_t>(in.layer);
    RoutingPolicy* p = l < per_layer_.size() && per_layer_[l] ? per_layer_[l].get() : fallback_.get();
    p->route(config, in, out);
  }

 private:
  std::vector<std::shared_ptr<RoutingPolicy>> per_layer_;  // entries may share one object
  std::shared_ptr<RoutingPolicy> fallback_;
};

}  // namespace sy::moe
