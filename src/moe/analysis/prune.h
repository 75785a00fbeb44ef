// Calibrated expert pruning: score every expert of every MoE layer on a calibration trace and keep the best N
// per layer (PreMoe's probabilistic expert pruning, reference B9; "Revisiting SMoE task-specific pruning";
// REAP). The result is an --expert-mask file (docs/routing.md) naming the experts to drop; `switchyard prune`
// then removes them from the model file (model/prune.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "moe/trace/trace_reader.h"

namespace sy::moe::analysis {

enum class PruneScore {
  kFreq,   // tokens that chose the expert
  kMass,   // sum of the weights the expert's outputs were given
  kTcess,  // PreMoe's task-conditioned expected selection score: mean over tokens of p·[p ≥ r], p the router
           // probability (needs a trace written with --trace-top; probabilities not recorded count as 0)
};

struct PruneRequest {
  int32_t keep = 0;            // experts kept per layer; 0: use keep_fraction
  double keep_fraction = 0.0;  // in (0, 1]: round(fraction · n_expert), at least 1
  PruneScore score = PruneScore::kFreq;
  double tcess_threshold = -1.0;  // r; < 0: 1 / n_expert of each layer (above a uniform router's probability)
};

struct LayerPruning {
  int32_t layer = 0;  // block index
  int32_t n_expert = 0;
  std::vector<double> score;    // [n_expert]
  std::vector<int32_t> kept;    // increasing id
  std::vector<int32_t> pruned;  // increasing id
};

// Per MoE layer of the trace: the `keep` best-scoring experts (ties: the lower id kept). Errors: keep out of
// range or below a layer's native k, tcess without router probabilities, non-finite weights or probabilities.
Result<std::vector<LayerPruning>> choose_experts(const trace::Trace& trace, const PruneRequest& request);

// The --expert-mask text for a choice: a comment header, then "LAYER: pruned ids" per layer.
std::string expert_mask_text(const std::vector<LayerPruning>& layers, const std::string& comment);

}  // namespace sy::moe::analysis
