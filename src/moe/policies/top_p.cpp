#include "moe/policies/top_p.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sy::moe {

void TopPPolicy::route(const RoutingConfig& c, const RouterOutput& in, RoutingDecision& out) {
  const int32_t E = c.n_expert;
  const int32_t max = params_.max > 0 ? std::min(params_.max, E) : E;
  const int32_t min = std::clamp(params_.min, 1, max);
  out.n_tokens = in.n_tokens;
  out.k = max;
  out.ids.assign(static_cast<size_t>(in.n_tokens * max), kNoExpert);
  out.weights.assign(static_cast<size_t>(in.n_tokens * max), 0.0f);
  probs_.resize(static_cast<size_t>(E));
  order_.resize(static_cast<size_t>(E));
  int32_t widest = 1;
  for (int64_t t = 0; t < in.n_tokens; ++t) {
    const float* z = in.logits + t * E;
    double sum = 0.0;
    if (c.gating == Gating::kSigmoid) {
      for (int32_t e = 0; e < E; ++e) sum += (probs_[e] = 1.0f / (1.0f + std::exp(-z[e])));
    } else {
      const float zmax = *std::max_element(z, z + E);
      for (int32_t e = 0; e < E; ++e) sum += (probs_[e] = std::isinf(z[e]) && z[e] < 0 ? 0.0f : std::exp(z[e] - zmax));
    }
    const float inv = sum > 0.0 ? static_cast<float>(1.0 / sum) : 0.0f;
    for (int32_t e = 0; e < E; ++e) probs_[e] *= inv;
    const float* bias = in.selection_bias;
    auto score = [&](int32_t e) { return probs_[e] + (bias != nullptr ? bias[e] : 0.0f); };
    std::iota(order_.begin(), order_.end(), 0);
    std::stable_sort(order_.begin(), order_.end(), [&](int32_t a, int32_t b) { return score(a) > score(b); });
    // Experts with -inf score (masked) are never chosen, even to reach MIN.
    int32_t reachable = 0;
    while (reachable < E && std::isfinite(score(order_[reachable]))) ++reachable;
    int32_t n = 0;
    double cum = 0.0;
    while (n < reachable) {
      cum += probs_[order_[n]];
      ++n;
      if (cum > params_.p) break;  // this expert crossed P: it is kept, the rest are not
    }
    n = std::min(std::max(n, std::min(min, reachable)), max);
    int32_t* ids = out.ids.data() + t * max;
    float* w = out.weights.data() + t * max;
    float wsum = 0.0f;
    for (int32_t j = 0; j < n; ++j) {
      ids[j] = order_[j];
      wsum += (w[j] = probs_[order_[j]]);
    }
    if (params_.renormalize && wsum > 0.0f)
      for (int32_t j = 0; j < n; ++j) w[j] /= wsum;
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
