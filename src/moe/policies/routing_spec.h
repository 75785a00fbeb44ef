// Builds the routing policy a run asks for from text: the `--route` spec, `--experts-per-token`, and the
// contents of `--expert-mask` and `--route-bias` files (grammar in docs/routing.md). Pure: no files, no
// model — the caller passes the model's MoE layers, so every error can name the layer and expert.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "moe/routing.h"

namespace sy::moe {

struct MoeLayerInfo {
  int32_t layer = 0;  // block index (blk.N)
  RoutingConfig config;
};

struct RoutingSpec {
  std::string route{};            // "" = native everywhere
  int32_t experts_per_token = 0;  // 0 = unset; else the default entry is top-k:K
  std::string mask_text{};        // contents of --expert-mask, "" = none
  std::string mask_source{};      // its file name, for errors
  std::string bias_text{};        // contents of --route-bias, "" = none
  std::string bias_source{};
};

// Experts disabled per block: result[layer][e] != 0 when disabled. Layers without a line get an empty row.
Result<std::vector<std::vector<uint8_t>>> parse_expert_mask(std::string_view text, std::string_view source,
                                                            std::span<const MoeLayerInfo> layers, int32_t n_layer);
// Selection bias per block: result[layer] has n_expert values or is empty.
Result<std::vector<std::vector<float>>> parse_route_bias(std::string_view text, std::string_view source,
                                                         std::span<const MoeLayerInfo> layers, int32_t n_layer);

struct BuiltRouting {
  std::unique_ptr<RoutingPolicy> policy;  // nullptr: nothing but the native rule (keep the session's own)
  int32_t max_slots = 0;                  // the most expert slots any layer's decision has
  std::string description{};              // "LAYER=POLICY,..." plus mask/bias files, for traces and reports
};

Result<BuiltRouting> build_routing_policy(const RoutingSpec& spec, std::span<const MoeLayerInfo> layers,
                                          int32_t n_layer);

}  // namespace sy::moe
