// Cross-layer expert prediction ("Fate", reference B2): when layer l routes, apply the next MoE layer's own
// router (and native rule) to layer l's router input and remember the experts it picks. When that next
// layer routes, compare with what it really chose. The predictions feed the trace (`--predict-next`) and
// later the prefetcher; the running recall is kept here too.
//
// Cost: one [n_expert × n_embd] matrix-vector product per token and MoE layer. Thread-compatible: one
// session's thread calls on_routing and reads predicted().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/matmul/matmul.h"
#include "moe/observer.h"
#include "moe/routing.h"

namespace sy::moe {

struct RouterWeights {
  int32_t layer = 0;
  RoutingConfig config;
  kernels::MatrixView router;             // [n_expert][n_embd]
  const float* router_bias = nullptr;     // [n_expert] or nullptr
  const float* selection_bias = nullptr;  // [n_expert] or nullptr
};

class NextLayerPredictor final : public RoutingObserver {
 public:
  // `layers`: every MoE layer of the model, in block order; the weights must outlive the predictor.
  explicit NextLayerPredictor(std::vector<RouterWeights> layers);

  void on_routing(const RoutingEvent& event) override;

  // The experts predicted for `layer` at position `pos` by the previous MoE layer (its native k of them),
  // or empty when there is none (first MoE layer, or that batch was not seen).
  std::span<const int32_t> predicted(int32_t layer, int64_t pos) const;

  struct Recall {
    uint64_t hits = 0;    // chosen experts that had been predicted
    uint64_t chosen = 0;  // chosen experts in tokens that had a prediction
  };
  // Per MoE layer (the order of the constructor's list); the first layer has none.
  const std::vector<Recall>& recall() const { return recall_; }

 private:
  struct Pending {
    int64_t pos0 = -1;
    int64_t n_tokens = 0;
    RoutingDecision decision;
  };
  int index_of(int32_t layer) const;

  std::vector<RouterWeights> layers_;
  std::vector<Pending> pending_;  // per MoE layer: what the previous layer predicted for it
  std::vector<Recall> recall_;
  NativeRoutingPolicy native_;
  std::vector<float> logits_;
  ThreadPool pool_{1};  // the forward pass's pool is busy when observers run
};

}  // namespace sy::moe
