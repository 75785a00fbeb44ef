// The routing setup of an engine from the text a user gives (the command line's --route, --experts-per-token,
// --expert-mask, --route-bias, --trace, --trace-top, --trace-hidden-norm, --predict-next; later a server's
// request): builds the policy and the trace writer and predictor and hands them to the engine, which owns them
// until it is destroyed (the trace is complete then). Grammar and trace format: docs/routing.md,
// docs/trace-format.md.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "moe/policies/routing_spec.h"
#include "moe/predict/next_layer_predictor.h"
#include "runtime/engine.h"

namespace sy::runtime {

struct RoutingOptions {
  std::string route;          // "[LAYERS=]POLICY,..."
  int experts_per_token = 0;  // 0: the model's k
  std::string expert_mask;    // file of experts to disable per layer
  std::string route_bias;     // file of per-expert selection biases
  std::string trace;          // trace file to write
  int trace_top = 0;          // router probabilities per record
  bool trace_hidden_norm = false;
  bool predict_next = false;        // predicted experts in the trace, recall reported at the end
  std::vector<std::string> inputs;  // other files the command reads (a text to score): the trace may not be one
  // Where the next-layer prediction's recall goes when the engine is destroyed (one line per layer); nullptr:
  // nowhere.
  std::function<void(std::string_view line)> report;
};

// Every MoE layer's block index and native routing rule, in block order: what moe::build_routing_policy needs
// (a server builds a policy per request with it).
std::vector<moe::MoeLayerInfo> moe_layers(const model::Model& model);

// Every MoE layer's router, in block order: what a next-layer predictor needs (--predict-next, --prefetch gate).
std::vector<moe::RouterWeights> moe_router_weights(const model::Model& model);

// Errors name the option, file and line. Refuses routing and trace options on a model without MoE layers.
Status apply_routing_options(Engine& engine, const RoutingOptions& options);

}  // namespace sy::runtime
