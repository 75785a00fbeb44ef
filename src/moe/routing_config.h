// How a layer's router turns scores into expert choices: the native routing rule read from GGUF metadata.
// Architecture-neutral: specs fill it in, policies read it (DESIGN.md "RoutingPolicy").
#pragma once

#include <cstdint>

namespace sy::moe {

// Stored-value compatible with GGUF `expert_gating_func` where one exists (1 softmax, 2 sigmoid, 3 softmax over
// the selected logits).
enum class Gating : uint32_t {
  kSoftmax = 1,          // p = softmax over all experts, choose by p
  kSigmoid = 2,          // p = sigmoid per expert (DeepSeek-V3), choose by p + selection bias
  kSoftmaxSelected = 3,  // choose by the raw logits, weights = softmax over the chosen k (gpt-oss)
};

struct RoutingConfig {
  Gating gating = Gating::kSoftmax;
  int32_t n_expert = 0;       // E
  int32_t n_used = 0;         // k
  bool norm_weights = false;  // divide the k weights by their sum
  float weight_scale = 1.0f;  // multiply the k weights (1 = none)
  int32_t n_group = 1;        // group-limited routing when > 1: E/n_group consecutive experts per group
  int32_t n_group_used = 1;   // groups kept (score = sum of the group's two best selection scores)
};

}  // namespace sy::moe
