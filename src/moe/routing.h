// Routing: from router logits to (expert id, weight) per token. A RoutingPolicy is the seam where the
// model's native rule can be replaced or wrapped (top-k override, masks, top-p …) per run and per layer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "moe/routing_config.h"

namespace sy::moe {

// One layer's routing decision for a batch of tokens: slot j of token t chose ids[t·k + j] with weight
// weights[t·k + j]. Slots are ordered by decreasing selection score.
struct RoutingDecision {
  int64_t n_tokens = 0;
  int32_t k = 0;
  std::vector<int32_t> ids;
  std::vector<float> weights;

  std::span<const int32_t> ids_of(int64_t t) const { return {ids.data() + t * k, static_cast<size_t>(k)}; }
};

struct RouterOutput {
  const float* logits = nullptr;          // [n_tokens][n_expert], router bias already added
  int64_t n_tokens = 0;
  const float* selection_bias = nullptr;  // [n_expert] or nullptr: shifts the choice, never the weights
};

class RoutingPolicy {
 public:
  virtual ~RoutingPolicy() = default;
  // Fills `out` (resized here) for every token. Must be thread-compatible: one caller at a time.
  virtual void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) = 0;
};

// The rule the model was trained with, as llama.cpp applies it (reference A.0): gating (softmax, sigmoid, or
// softmax over the chosen logits), optional selection bias and group limit, top-k, optional
// renormalisation and scale.
class NativeRoutingPolicy final : public RoutingPolicy {
 public:
  void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) override;

 private:
  std::vector<float> probs_, scores_, group_scores_;
  std::vector<int32_t> order_;
};

}  // namespace sy::moe
