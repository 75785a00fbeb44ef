// Parameter and byte accounting over a model's tensors, by placement class (tensor_table.h): how much a model
// holds, and how much one token touches. A token uses every non-expert weight, the shared experts, and k of
// the E routed experts of each MoE layer, so
//     active = total - Σ_moe-layers routed(layer) · (1 - k/E).
// The embedding table counts in full (the convention behind published "active parameter" figures, e.g.
// Qwen3-30B-A3B's 3.3 B), while active *bytes* count the one row a token reads: those bytes bound decode speed.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "format/gguf_reader.h"
#include "model/hparams.h"
#include "model/tensor_table.h"

namespace sy::model {

inline constexpr size_t kPlacementCount = static_cast<size_t>(Placement::kOutput) + 1;

// One tensor as held (in a file, or planned by a generator).
struct TensorCost {
  Placement placement;
  int32_t layer = -1;  // -1: not per layer
  int64_t n_elements = 0;
  uint64_t n_bytes = 0;
  int64_t rows = 0;  // ne1 · ne2: used for the one-row cost of the embedding
};

// Per MoE layer: what one routed expert costs (summed over its gate/up/down slabs and biases).
struct ExpertLayerCost {
  int32_t layer = 0;
  int32_t n_expert = 0;
  int32_t n_used = 0;
  int64_t params_per_expert = 0;
  uint64_t bytes_per_expert = 0;
};

struct Accounting {
  std::array<int64_t, kPlacementCount> params{};  // by placement
  std::array<uint64_t, kPlacementCount> bytes{};
  int64_t total_params = 0;
  double active_params = 0;  // per token; fractional because of k/E
  uint64_t total_bytes = 0;
  double active_bytes = 0;  // weight bytes read per token in decode
  std::vector<ExpertLayerCost> expert_layers;

  int64_t params_of(Placement p) const { return params[static_cast<size_t>(p)]; }
  uint64_t bytes_of(Placement p) const { return bytes[static_cast<size_t>(p)]; }
};

// Tensors whose layer is outside the config count as held and always active.
Accounting account(const ModelConfig& config, std::span<const TensorCost> tensors);

// The table's tensors that `file` holds, at their stored sizes (absent optional tensors are left out).
std::vector<TensorCost> file_costs(const ModelConfig& config, const gguf::File& file);

// The weight bytes one decoded token reads, split into what every token reads and what the routing decides.
// Fixed: every tensor outside the routed experts (attention, norms, dense FFNs, routers, shared experts,
// the output head), one row of the token embedding, and — when the output head is tied to the embedding
// (no output tensor) — the whole embedding matrix as well. Routed: per MoE layer, one expert's gate, up
// and down slabs (and their biases) for each distinct expert the token was sent to. The KV cache, which
// grows with the position, is not a weight and is not counted.
struct DecodeCost {
  uint64_t fixed_bytes = 0;
  std::vector<uint64_t> expert_bytes;  // [layer]: one routed expert; 0 for a dense layer
  std::vector<int32_t> n_expert;       // [layer]: routed experts held; 0 for a dense layer

  // The mean over n_tokens tokens that were sent, summed over the tokens, to expert_counts[l] distinct
  // experts of layer l (one entry per layer; a token counts an expert once however many slots chose it).
  double mean_bytes(std::span<const int64_t> expert_counts, int64_t n_tokens) const;
  // The bounds any routing stays within: no routed expert at all, and every expert of every layer.
  uint64_t min_bytes() const { return fixed_bytes; }
  uint64_t max_bytes() const;
};

// Tensors whose layer is outside the config count as fixed.
DecodeCost decode_cost(const ModelConfig& config, std::span<const TensorCost> tensors);

// The cost of every tensor of the table at one uniform element type-free size (F32 bytes): for tests and
// planning before types are chosen.
std::vector<TensorCost> f32_costs(std::span<const TensorSpec> table);

}  // namespace sy::model
