// `--expert-mask FILE`: experts disabled per layer, for pruning studies. Wraps any policy: a disabled
// expert's logit becomes -inf (so softmax renormalises over the rest) and its selection score -inf (so
// sigmoid and biased routers cannot pick it either). The inner policy then routes as usual.
#pragma once

#include <memory>
#include <vector>

#include "moe/routing.h"

namespace sy::moe {

class MaskedPolicy final : public RoutingPolicy {
 public:
  // disabled[layer][e] != 0 disables expert e of that layer; layers past the table or with an empty row
  // are untouched. Each layer must keep at least the inner policy's k experts (checked by the builder).
  MaskedPolicy(std::vector<std::vector<uint8_t>> disabled, std::unique_ptr<RoutingPolicy> inner)
      : disabled_(std::move(disabled)), inner_(std::move(inner)) {}
  void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) override;

 private:
  std::vector<std::vector<uint8_t>> disabled_;
  std::unique_ptr<RoutingPolicy> inner_;
  std::vector<float> logits_, bias_;
};

}  // namespace sy::moe
