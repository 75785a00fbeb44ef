// `switchyard prune`: writes a smaller GGUF without the experts an --expert-mask file disables. Every tensor
// with one slab per routed expert (gate/up/down experts, their biases, the router's rows, the router bias and
// the selection bias, of any family) keeps the slabs of the surviving experts, in id order; `<arch>.expert_count`
// becomes the new count; everything else is copied byte for byte. Expert e of the new file is the e-th kept
// expert, so the pruned file computes exactly what the full file computes with the same experts masked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace sy::model {

struct PruneSummary {
  int32_t n_expert_before = 0, n_expert_after = 0;
  size_t tensors_sliced = 0;
  uint64_t bytes_before = 0, bytes_after = 0;  // file sizes
  std::vector<std::vector<int32_t>> kept;      // [MoE layer in block order] → kept expert ids of the input
};

// Errors (nothing is written): the output is the input or the mask file, the mask is malformed, layers keep
// different numbers of experts (a GGUF has one expert_count), fewer experts than a layer routes to per token,
// group-limited routing whose groups would not keep equal sizes, a model without MoE layers.
Result<PruneSummary> prune_experts(const std::filesystem::path& model, const std::filesystem::path& mask,
                                   const std::filesystem::path& out);

}  // namespace sy::model
