// Fuzz target: what `--route`, `--experts-per-token`, `--expert-mask` and `--route-bias` give the routing
// setup (moe::build_routing_policy, as runtime::apply_routing_options calls it with a model's MoE layers).
// Input: byte 0 picks one of four layer layouts shaped like the conformance models (softmax, sigmoid with
// groups and a selection bias, softmax over the chosen, a model with 256 experts), byte 1 is
// --experts-per-token (mod 40), and the rest is "ROUTE\0MASK FILE\0BIAS FILE" (missing parts empty).
// A built policy then routes a few tokens on every MoE layer: every decision must have in-range, distinct
// expert ids (kNoExpert only as trailing padding), no more slots than max_slots and finite weights.
#include <cmath>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "moe/policies/routing_spec.h"
#include "moe/routing.h"

namespace {

using sy::moe::Gating;
using sy::moe::MoeLayerInfo;
using sy::moe::RoutingConfig;

struct Layout {
  int32_t n_layer;
  std::vector<MoeLayerInfo> layers;
  bool selection_bias;
};

const std::vector<Layout>& layouts() {
  static const std::vector<Layout> all = [] {
    const RoutingConfig qwen{.gating = Gating::kSoftmax, .n_expert = 16, .n_used = 4, .norm_weights = true};
    const RoutingConfig ds3{.gating = Gating::kSigmoid,
                            .n_expert = 16,
                            .n_used = 4,
                            .norm_weights = true,
                            .weight_scale = 2.5f,
                            .n_group = 4,
                            .n_group_used = 2};
    const RoutingConfig oss{.gating = Gating::kSoftmaxSelected, .n_expert = 16, .n_used = 4};
    const RoutingConfig wide{.gating = Gating::kSigmoid, .n_expert = 256, .n_used = 8, .norm_weights = true};
    return std::vector<Layout>{
        {3, {{0, qwen}, {1, qwen}, {2, qwen}}, false},
        {3, {{1, ds3}, {2, ds3}}, true},  // block 0 is dense
        {2, {{0, oss}, {1, oss}}, false},
        {4, {{1, wide}, {3, wide}}, true},
    };
  }();
  return all;
}

// Router logits that differ per token, layer and expert, some of them tied.
float logit(int64_t t, int32_t layer, int32_t e) {
  return static_cast<float>(((t * 31 + layer * 17 + e * 7) % 23) - 11) * 0.25f;
}

}  // namespace

SY_FUZZ_TARGET(routing_spec) {
  if (size < 2) return 0;
  const Layout& layout = layouts()[data[0] % layouts().size()];
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  std::string_view parts[3];
  size_t start = 0;
  for (int i = 0; i < 3 && start <= rest.size(); ++i) {
    const size_t end = i < 2 ? rest.find('\0', start) : std::string_view::npos;
    parts[i] = rest.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? rest.size() + 1 : end + 1;
  }
  const sy::moe::RoutingSpec spec{.route = std::string(parts[0]),
                                  .experts_per_token = data[1] % 40,
                                  .mask_text = std::string(parts[1]),
                                  .mask_source = "mask.txt",
                                  .bias_text = std::string(parts[2]),
                                  .bias_source = "bias.txt"};
  auto built = sy::moe::build_routing_policy(spec, layout.layers, layout.n_layer);
  if (!built) {
    if (built.error().message.empty()) __builtin_trap();  // every error must say something
    return 0;
  }
  if (built->max_slots <= 0) __builtin_trap();
  if (!built->policy) return 0;  // the native rule: nothing of the spec's to run
  constexpr int64_t kTokens = 3;
  for (const MoeLayerInfo& l : layout.layers) {
    const int32_t n_expert = l.config.n_expert;
    std::vector<float> logits(static_cast<size_t>(kTokens * n_expert));
    for (int64_t t = 0; t < kTokens; ++t)
      for (int32_t e = 0; e < n_expert; ++e) logits[static_cast<size_t>(t * n_expert + e)] = logit(t, l.layer, e);
    std::vector<float> bias(static_cast<size_t>(n_expert));
    for (int32_t e = 0; e < n_expert; ++e) bias[static_cast<size_t>(e)] = static_cast<float>(e % 5) * 0.01f;
    const sy::moe::RouterOutput in{.logits = logits.data(),
                                   .n_tokens = kTokens,
                                   .selection_bias = layout.selection_bias ? bias.data() : nullptr,
                                   .layer = l.layer};
    sy::moe::RoutingDecision out;
    built->policy->route(l.config, in, out);
    if (out.n_tokens != kTokens || out.k <= 0 || out.k > built->max_slots ||
        out.ids.size() != static_cast<size_t>(kTokens * out.k) || out.weights.size() != out.ids.size())
      __builtin_trap();
    for (int64_t t = 0; t < kTokens; ++t) {
      std::vector<uint8_t> seen(static_cast<size_t>(n_expert), 0);
      bool padding = false;
      for (int32_t j = 0; j < out.k; ++j) {
        const int32_t id = out.ids[static_cast<size_t>(t * out.k + j)];
        const float w = out.weights[static_cast<size_t>(t * out.k + j)];
        if (id == sy::moe::kNoExpert) {
          padding = true;
          continue;
        }
        if (padding || id < 0 || id >= n_expert || seen[static_cast<size_t>(id)] != 0 || !std::isfinite(w))
          __builtin_trap();
        seen[static_cast<size_t>(id)] = 1;
      }
    }
  }
  return 0;
}
