// Prefetch by the next layer's gate (--prefetch gate): when a MoE layer routes, the next MoE layer's router is
// applied to this layer's input (NextLayerPredictor, "Fate") and the experts it picks for the batch's tokens
// go to the store's prefetch(), whose reader thread loads them while this layer computes. A wrong guess costs
// a read and a slot, never a number: the forward pass still acquires exactly what the router chose.
//
// Thread-compatible, like every observer: the forward pass's thread calls on_routing.
#pragma once

#include <cstdint>
#include <vector>

#include "moe/expert_store.h"
#include "moe/observer.h"
#include "moe/predict/next_layer_predictor.h"

namespace sy::moe {

class GatePrefetcher final : public RoutingObserver {
 public:
  // `layers`: every MoE layer's router in block order (the weights outlive the prefetcher); `store` too.
  // `per_token`: hint only the first (most confident) this many predictions of each token; 0: all k.
  GatePrefetcher(std::vector<RouterWeights> layers, ExpertStore& store, int per_token = 0);

  void on_routing(const RoutingEvent& event) override;

 private:
  std::vector<int32_t> moe_layers_;  // block indices, ascending
  NextLayerPredictor predictor_;
  ExpertStore& store_;
  int per_token_ = 0;
  std::vector<int32_t> ids_;     // the union of the batch's predictions
  std::vector<uint8_t> chosen_;  // [expert]: already in ids_
};

}  // namespace sy::moe
