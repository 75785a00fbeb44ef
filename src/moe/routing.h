// Routing: from router logits to (expert id, weight) per token. A RoutingPolicy is the seam where the
// model's native rule can be replaced or wrapped (top-k override, masks, top-p …) per run and per layer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "moe/routing_config.h"

namespace sy::moe {

// Marks an unused slot: policies that choose a variable number of experts per token (top-p) pad each token's
// k slots with it, weight 0. Consumers skip such slots.
inline constexpr int32_t kNoExpert = -1;

// One layer's routing decision for a batch of tokens: slot j of token t chose ids[t·k + j] with weight
// weights[t·k + j]. Slots are ordered by decreasing selection score; padding slots (kNoExpert) come last.
struct RoutingDecision {
  int64_t n_tokens = 0;
  int32_t k = 0;
  std::vector<int32_t> ids;
  std::vector<float> weights;

  std::span<const int32_t> ids_of(int64_t t) const { return {ids.data() + t * k, static_cast<size_t>(k)}; }
};

class ExpertStore;

struct RouterOutput {
  const float* logits = nullptr;  // [n_tokens][n_expert], router bias already added
  int64_t n_tokens = 0;
  const float* selection_bias = nullptr;  // [n_expert] or nullptr: shifts the choice, never the weights
  int32_t layer = 0;                      // which block: lets one policy object route each layer its own way
  const ExpertStore* store = nullptr;     // where the experts come from (what a cache-aware policy asks)
};

class RoutingPolicy {
 public:
  virtual ~RoutingPolicy() = default;
  // Fills `out` (resized here) for every token. Must be thread-compatible: one caller at a time.
  virtual void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) = 0;
};

// The native rule (reference A.0) in the two halves that do not depend on how many experts are taken, so the
// policies that change only the count (native top-k, top-k:K, top-p) share one implementation of each rule.
//
// NativeGate, per token: gating and group limit. probs() is what the weights come from (softmax over all
// experts, sigmoid per expert, or the raw logits for kSoftmaxSelected); scores() is what the choice is made
// on: probs + selection bias, and -inf for every expert of a group the group limit drops (groups scored by
// the sum of their two best scores). An expert that arrives with -inf logit and bias (a mask) keeps score
// -inf. Not thread-safe: one caller at a time.
class NativeGate {
 public:
  // z: one token's logits [n_expert]; selection_bias: [n_expert] or nullptr.
  void run(const RoutingConfig& c, const float* z, const float* selection_bias);
  std::span<const float> probs() const { return probs_; }    // [n_expert]
  std::span<const float> scores() const { return scores_; }  // [n_expert]

 private:
  std::vector<float> probs_, scores_, group_scores_;
  std::vector<int32_t> order_, kept_;
  std::vector<uint8_t> keep_;
};

// The weights of the chosen experts ids [n] (from NativeGate::probs()), as the native rule makes them:
// w[j] = probs[ids[j]]; softmax over the n for kSoftmaxSelected; divided by their sum when norm_weights;
// times weight_scale unless it is 0 or 1.
void native_weights(const RoutingConfig& c, std::span<const float> probs, std::span<const int32_t> ids,
                    std::span<float> w);

// The k largest of v [n], largest first, ties to the lower index (the order every native choice uses).
void top_k_indices(std::span<const float> v, int32_t k, std::vector<int32_t>& order, int32_t* out);

// The rule the model was trained with, as llama.cpp applies it (reference A.0): gating (softmax, sigmoid, or
// softmax over the chosen logits), optional selection bias and group limit, top-k, optional
// renormalisation and scale.
class NativeRoutingPolicy final : public RoutingPolicy {
 public:
  void route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) override;

 private:
  NativeGate gate_;
  std::vector<int32_t> order_;
};

}  // namespace sy::moe
