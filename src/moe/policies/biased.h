// `--route-bias FILE`: a per-layer bias added to the router scores for selection only — the
// auxiliary-loss-free balancing idea of DeepSeek-V3 (reference B17) used as a steering knob at inference.
// It is added to the model's own selection bias, if any; the weights stay the unbiased probabilities.
#pragma once

#include <memory>
#include <vector>

#include "moe/routing.h"

namespace sy::moe {

class BiasedPolicy final : public RoutingPolicy {
 public:
  // bias[layer] has n_expert values, or is empty for an untouched layer.
  BiasedPolicy(std::vector<std::vector<float>> bias, std::unique_ptr<RoutingPolicy> inner)
      : bias_(std::move(bias)), inner_(std::move(inner)) {}
  void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) override;

 private:
  std::vector<std::vector<float>> bias_;
  std::unique_ptr<RoutingPolicy> inner_;
  std::vector<float> sum_;
};

}  // namespace sy::moe
