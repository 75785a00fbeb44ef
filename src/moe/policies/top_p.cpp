#include "moe/policies/top_p.h"

#include <algorithm>
#include <cmath>

namespace sy::moe {

void TopPPolicy::route(const RoutingConfig& config, const RouterOutput& in, RoutingDecision& out) {
  RoutingConfig c = config;
  c.norm_weights = c.norm_weights || params_.renormalize;
  const int32_t E = c.n_expert;
  const int32_t max = params_.max > 0 ? std::min(params_.max, E) : E;
  const int32_t min = std::clamp(params_.min, 1, max);
  out.n_tokens = in.n_tokens;
  out.k = max;
  out.ids.assign(static_cast<size_t>(in.n_tokens * max), kNoExpert);
  out.weights.assign(static_cast<size_t>(in.n_tokens * max), 0.0f);
  mass_.resize(static_cast<size_t>(E));
  int32_t widest = 1;
  for (int64_t t = 0; t < in.n_tokens; ++t) {
    gate_.run(c, in.logits + t * E, in.selection_bias);
    const std::span<const float> p = gate_.probs(), s = gate_.scores();
    // The allowed experts in the native choice order: score descending, ties to the lower id. Experts with
    // score -inf (masked, or in a dropped group) are never chosen, even to reach MIN.
    order_.clear();
    for (int32_t e = 0; e < E; ++e)
      if (s[e] > -INFINITY) order_.push_back(e);
    std::sort(order_.begin(), order_.end(),
              [s](int32_t a, int32_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
    const auto reachable = static_cast<int32_t>(order_.size());
    // Mass over the allowed experts; kSoftmaxSelected's probs are still logits.
    double sum = 0.0;
    if (c.gating == Gating::kSoftmaxSelected) {
      float zmax = -INFINITY;
      for (int32_t e : order_) zmax = std::max(zmax, p[e]);
      for (int32_t e : order_) sum += (mass_[e] = std::exp(p[e] - zmax));
    } else {
      for (int32_t e : order_) sum += (mass_[e] = p[e]);
    }
    const double inv = sum > 0.0 ? 1.0 / sum : 0.0;
    int32_t n = 0;
    double cum = 0.0;
    while (n < reachable) {
      cum += mass_[order_[n]] * inv;
      ++n;
      if (cum > params_.p) break;  // this expert crossed P: it is kept, the rest are not
    }
    n = std::min(std::max(n, std::min(min, reachable)), max);
    int32_t* ids = out.ids.data() + t * max;
    std::copy_n(order_.begin(), n, ids);
    native_weights(c, p, {ids, static_cast<size_t>(n)}, {out.weights.data() + t * max, static_cast<size_t>(n)});
    widest = std::max(widest, n);
  }
  // Keep only as many slots as the widest token needs: the MoE layer sizes its buffers by k. Moving rows
  // forward in place is safe because row t's new start t·widest is never past its old start t·max.
  if (widest < max) {
    for (int64_t t = 0; t < in.n_tokens; ++t) {
      std::copy_n(out.ids.begin() + t * max, widest, out.ids.begin() + t * widest);
      std::copy_n(out.weights.begin() + t * max, widest, out.weights.begin() + t * widest);
    }
    out.k = widest;
    out.ids.resize(static_cast<size_t>(in.n_tokens * widest));
    out.weights.resize(static_cast<size_t>(in.n_tokens * widest));
  }
}

}  // namespace sy::moe
