// A trace regrouped for analysis: per MoE layer, the experts each token chose, in the order tokens were
// run. Every figure in analysis/ is a pure function of these streams, so tests build them by hand.
#pragma once

#include <cstdint>
#include <vector>

#include "moe/trace/trace_reader.h"

namespace sy::moe::analysis {

struct LayerStream {
  int32_t layer = 0;  // block index
  int32_t n_expert = 0;
  int32_t k = 0;                               // the model's native k (cache capacities are read against it)
  std::vector<std::vector<int32_t>> tokens{};  // [token] → chosen experts
  std::vector<uint32_t> seq{}, pos{};          // [token]
  std::vector<std::vector<int32_t>> pred{};    // [token] → predicted experts (empty if none)
};

std::vector<LayerStream> layer_streams(const trace::Trace& trace);

// The stream of switchyard's expert cache, one pool for all layers: a round per (token, MoE layer), token-major
// in the first layer's token order, layer i's expert e renamed i·E_before + e. Run through cache_counts it is
// the simulation of that pool (tests/unit/runtime/expert_cache_test.cpp holds the real cache to it).
LayerStream pool_stream(const std::vector<LayerStream>& layers);

}  // namespace sy::moe::analysis
