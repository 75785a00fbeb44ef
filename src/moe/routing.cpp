#include "moe/routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/ops/elementwise.h"

namespace sy::moe {
namespace {

// llama.cpp's guard against dividing by a zero weight sum.
constexpr float kMinWeightSum = 6.103515625e-5f;

}  // namespace

void top_k_indices(std::span<const float> v, int32_t k, std::vector<int32_t>& order, int32_t* out) {
  order.resize(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [v](int32_t a, int32_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  std::copy(order.begin(), order.begin() + k, out);
}

void NativeGate::run(const RoutingConfig& c, const float* z, const float* selection_bias) {
  const int32_t E = c.n_expert;
  probs_.resize(static_cast<size_t>(E));
  scores_.resize(static_cast<size_t>(E));
  switch (c.gating) {
    case Gating::kSoftmax:
      std::copy(z, z + E, probs_.begin());
      kernels::softmax(probs_.data(), E);
      break;
    case Gating::kSigmoid:
      for (int32_t e = 0; e < E; ++e) probs_[e] = 1.0f / (1.0f + std::exp(-z[e]));
      break;
    case Gating::kSoftmaxSelected: std::copy(z, z + E, probs_.begin()); break;
  }
  for (int32_t e = 0; e < E; ++e) scores_[e] = probs_[e] + (selection_bias ? selection_bias[e] : 0.0f);
  if (c.n_group <= 1) return;
  // Keep the n_group_used groups whose two best scores sum highest; the rest cannot be chosen.
  const int32_t per = E / c.n_group;
  group_scores_.resize(static_cast<size_t>(c.n_group));
  for (int32_t g = 0; g < c.n_group; ++g) {
    const float* s = scores_.data() + g * per;
    float best = -INFINITY, second = -INFINITY;
    for (int32_t i = 0; i < per; ++i) {
      if (s[i] > best) {
        second = best;
        best = s[i];
      } else if (s[i] > second) {
        second = s[i];
      }
    }
    group_scores_[g] = best + second;
  }
  kept_.resize(static_cast<size_t>(c.n_group_used));
  top_k_indices(group_scores_, c.n_group_used, order_, kept_.data());
  keep_.assign(static_cast<size_t>(c.n_group), 0);
  for (int32_t g : kept_) keep_[static_cast<size_t>(g)] = 1;
  for (int32_t g = 0; g < c.n_group; ++g)
    if (keep_[static_cast<size_t>(g)] == 0) std::fill_n(scores_.begin() + g * per, per, -INFINITY);
}

void native_weights(const RoutingConfig& c, std::span<const float> probs, std::span<const int32_t> ids,
                    std::span<float> w) {
  const auto n = static_cast<int32_t>(ids.size());
  for (int32_t j = 0; j < n; ++j) w[j] = probs[ids[j]];
  if (c.gating == Gating::kSoftmaxSelected) kernels::softmax(w.data(), n);
  if (c.norm_weights) {
    double sum = 0.0;  // ggml_sum_rows adds in double
    for (int32_t j = 0; j < n; ++j) sum += static_cast<double>(w[j]);
    const float total = std::max(static_cast<float>(sum), kMinWeightSum);
    for (int32_t j = 0; j < n; ++j) w[j] /= total;
  }
  if (c.weight_scale != 1.0f && c.weight_scale != 0.0f)
    for (int32_t j = 0; j < n; ++j) w[j] *= c.weight_scale;
}

void NativeRoutingPolicy::route(const RoutingConfig& c, const RouterOutput& in, RoutingDecision& out) {
  const int32_t E = c.n_expert, k = c.n_used;
  out.n_tokens = in.n_tokens;
  out.k = k;
  out.ids.resize(static_cast<size_t>(in.n_tokens * k));
  out.weights.resize(static_cast<size_t>(in.n_tokens * k));
  for (int64_t t = 0; t < in.n_tokens; ++t) {
    gate_.run(c, in.logits + t * E, in.selection_bias);
    int32_t* ids = out.ids.data() + t * k;
    top_k_indices(gate_.scores(), k, order_, ids);
    native_weights(c, gate_.probs(), {ids, static_cast<size_t>(k)},
                   {out.weights.data() + t * k, static_cast<size_t>(k)});
  }
}

}  // namespace sy::moe
