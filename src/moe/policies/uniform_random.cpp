#include "moe/policies/uniform_random.h"

#include <algorithm>
#include <cmath>

namespace sy::moe {

void UniformRandomPolicy::route(const RoutingConfig& c, const RouterOutput& in, RoutingDecision& out) {
  const int32_t E = c.n_expert, k = k_ > 0 ? k_ : c.n_used;
  out.n_tokens = in.n_tokens;
  out.k = k;
  out.ids.assign(static_cast<size_t>(in.n_tokens * k), kNoExpert);
  out.weights.assign(static_cast<size_t>(in.n_tokens * k), 0.0f);
  for (int64_t t = 0; t < in.n_tokens; ++t) {
    pool_.clear();
    for (int32_t e = 0; e < E; ++e) {
      const float bias = in.selection_bias != nullptr ? in.selection_bias[e] : 0.0f;
      if (std::isfinite(in.logits[t * E + e]) && std::isfinite(bias)) pool_.push_back(e);
    }
    // Partial Fisher–Yates: the first n entries become a uniform sample without replacement.
    const int32_t n = std::min<int32_t>(k, static_cast<int32_t>(pool_.size()));
    for (int32_t j = 0; j < n; ++j) {
      std::uniform_int_distribution<size_t> pick(static_cast<size_t>(j), pool_.size() - 1);
      std::swap(pool_[static_cast<size_t>(j)], pool_[pick(rng_)]);
      out.ids[static_cast<size_t>(t * k + j)] = pool_[static_cast<size_t>(j)];
      out.weights[static_cast<size_t>(t * k + j)] = 1.0f / static_cast<float>(n);
    }
  }
}

}  // namespace sy::moe
