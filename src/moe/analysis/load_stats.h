// Load and co-occurrence figures of routing: how evenly a layer uses its experts, which experts fire
// together, and how a token's experts at one layer constrain its experts at the next (ExFlow's inter-layer
// affinity, reference B5).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "moe/analysis/streams.h"

namespace sy::moe::analysis {

// Times each expert was chosen. [n_expert]
std::vector<uint64_t> expert_load(const LayerStream& s);

struct Balance {
  double max_over_mean = 0.0;  // 1 = perfectly even
  double cv = 0.0;             // coefficient of variation (population std / mean); 0 = even
  double norm_entropy = 0.0;   // entropy of load/total divided by log(n_expert); 1 = even
};
Balance balance(std::span<const uint64_t> load);

// Tokens that chose both i and j (i != j), row-major [n_expert][n_expert], symmetric, zero diagonal.
std::vector<uint64_t> co_activation(const LayerStream& s);

struct Affinity {
  int32_t n_from = 0, n_to = 0;
  std::vector<uint64_t> counts;  // [n_from][n_to]: tokens with i at layer l and j at the next
  std::vector<uint64_t> from;    // [n_from]: tokens with i at l that appear at the next layer
  std::vector<double> prob;      // [n_from][n_to]: P(j at next | i at l) = counts / from (rows sum to k)
  // [n_from][n_to]: counts / row total — of the next-layer slots that follow i, the share that goes to j (rows
  // sum to 1; a probability distribution over j, which `prob` is not when k > 1).
  std::vector<double> row_share;
  // How concentrated the transitions are: over tokens, the share of i's successors that fall in i's
  // `top` most frequent successors (top = next layer's k), weighted by from[i]. 1 = fully determined.
  double top_k_mass = 0.0;
};
// Joins the two layers' tokens on (sequence, position).
Affinity affinity(const LayerStream& l, const LayerStream& next);

// Next-layer prediction quality from the predictions stored in the trace: chosen experts that had been
// predicted, over chosen experts of tokens that have a prediction (recall at the model's k).
struct Recall {
  uint64_t hits = 0, chosen = 0;
  double value() const { return chosen > 0 ? static_cast<double>(hits) / static_cast<double>(chosen) : 0.0; }
};
Recall prediction_recall(const LayerStream& s);

}  // namespace sy::moe::analysis
