#include "moe/cache/gate_prefetcher.h"

#include <algorithm>

namespace sy::moe {
namespace {

std::vector<int32_t> block_indices(const std::vector<RouterWeights>& layers) {
  std::vector<int32_t> out;
  out.reserve(layers.size());
  for (const RouterWeights& l : layers) out.push_back(l.layer);
  return out;
}

}  // namespace

GatePrefetcher::GatePrefetcher(std::vector<RouterWeights> layers, ExpertStore& store)
    : moe_layers_(block_indices(layers)), predictor_(std::move(layers)), store_(store) {}

void GatePrefetcher::on_routing(const RoutingEvent& event) {
  predictor_.on_routing(event);
  const auto next = std::upper_bound(moe_layers_.begin(), moe_layers_.end(), event.layer);
  if (next == moe_layers_.end() || event.decision == nullptr) return;
  ids_.clear();
  for (int64_t t = 0; t < event.decision->n_tokens; ++t)
    for (const int32_t e : predictor_.predicted(*next, event.pos0 + t)) {
      if (e < 0) continue;
      if (static_cast<size_t>(e) >= chosen_.size()) chosen_.resize(static_cast<size_t>(e) + 1, 0);
      if (chosen_[static_cast<size_t>(e)] != 0) continue;
      chosen_[static_cast<size_t>(e)] = 1;
      ids_.push_back(e);
    }
  for (const int32_t e : ids_) chosen_[static_cast<size_t>(e)] = 0;
  if (!ids_.empty()) store_.prefetch(*next, ids_);
}

}  // namespace sy::moe
