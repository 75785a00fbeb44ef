#include "moe/predict/next_layer_predictor.h"

#include <algorithm>

namespace sy::moe {

NextLayerPredictor::NextLayerPredictor(std::vector<RouterWeights> layers)
    : layers_(std::move(layers)), pending_(layers_.size()), recall_(layers_.size()) {}

int NextLayerPredictor::index_of(int32_t layer) const {
  for (size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].layer == layer) return static_cast<int>(i);
  return -1;
}

void NextLayerPredictor::on_routing(const RoutingEvent& ev) {
  const int i = index_of(ev.layer);
  if (i < 0) return;
  const RoutingDecision& actual = *ev.decision;
  // Score the prediction made for this layer, token by token.
  const Pending& p = pending_[static_cast<size_t>(i)];
  if (p.pos0 == ev.pos0 && p.n_tokens == actual.n_tokens) {
    Recall& r = recall_[static_cast<size_t>(i)];
    for (int64_t t = 0; t < actual.n_tokens; ++t) {
      const std::span<const int32_t> pred = p.decision.ids_of(t);
      for (int32_t id : actual.ids_of(t)) {
        if (id == kNoExpert) continue;
        ++r.chosen;
        if (std::find(pred.begin(), pred.end(), id) != pred.end()) ++r.hits;
      }
    }
  }
  if (static_cast<size_t>(i) + 1 >= layers_.size() || ev.hidden == nullptr) return;
  // Predict the next MoE layer from this layer's router input.
  const RouterWeights& next = layers_[static_cast<size_t>(i) + 1];
  const int64_t E = next.config.n_expert;
  logits_.resize(static_cast<size_t>(actual.n_tokens * E));
  if (!kernels::matmul(next.router, ev.hidden, actual.n_tokens, logits_.data(), pool_)) return;
  if (next.router_bias != nullptr)
    for (int64_t t = 0; t < actual.n_tokens; ++t)
      for (int64_t e = 0; e < E; ++e) logits_[static_cast<size_t>(t * E + e)] += next.router_bias[e];
  Pending& out = pending_[static_cast<size_t>(i) + 1];
  native_.route(next.config,
                RouterOutput{.logits = logits_.data(),
                             .n_tokens = actual.n_tokens,
                             .selection_bias = next.selection_bias,
                             .layer = next.layer},
                out.decision);
  out.pos0 = ev.pos0;
  out.n_tokens = actual.n_tokens;
}

std::span<const int32_t> NextLayerPredictor::predicted(int32_t layer, int64_t pos) const {
  const int i = index_of(layer);
  if (i < 0) return {};
  const Pending& p = pending_[static_cast<size_t>(i)];
  if (pos < p.pos0 || pos >= p.pos0 + p.n_tokens) return {};
  return p.decision.ids_of(pos - p.pos0);
}

}  // namespace sy::moe
