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

GatePrefetcher::GatePrefetcher(std::vector<RouterWeights> layers, ExpertStore& store, int per_token)
    : moe_layers_(block_indices(layers)), predictor_(std::move(layers)), store_(store), per_token_(per_token) {}

void GatePrefetcher::on_routing(const RoutingEvent& event) {
  predictor_.on_routing(event);
  const auto next = std::upper_bound(moe_layers_.begin(), moe_layers_.end(), event.layer);
  if (next == moe_layers_.end() || event.decision == nullptr) return;
  ids_.clear();
  for (int64_t t = 0; t < event.decision->n_tokens; ++t) {
    std::span<const int32_t> guess = predictor_.predicted(*next, event.pos0 + t);
    // The native rule lists a token's experts by falling score: the first ones are the surest guesses.
    if (per_token_ > 0 && guess.size() > static_cast<size_t>(per_token_)) guess = guess.first(per_token_);
    for (const int32_t e : guess) {
      if (e < 0) continue;
      if (static_cast<size_t>(e) >= chosen_.size()) chosen_.resize(static_cast<size_t>(e) + 1, 0);
      if (chosen_[static_cast<size_t>(e)] != 0) continue;
      chosen_[static_cast<size_t>(e)] = 1;
      ids_.push_back(e);
    }
  }
  for (const int32_t e : ids_) chosen_[static_cast<size_t>(e)] = 0;
  if (!ids_.empty()) store_.prefetch(*next, ids_);
}

}  // namespace sy::moe
