// The routed-expert half of an MoE FFN as a fixed dataflow with named stages (STYLE.md §10):
//   route → (token, slot) records → counts and offsets per expert → gather → ExpertStore.acquire →
//   one matrix product per active expert (gate/up + activation, then down) → weighted scatter-add.
// Shared experts are the caller's (they are dense FFNs).
#pragma once

#include <cstdint>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/matmul/matmul.h"
#include "moe/expert_store.h"
#include "moe/observer.h"
#include "moe/routing.h"

namespace sy::moe {

enum class ExpertActivation { kSilu, kSwigluOai };

struct MoeLayerArgs {
  int32_t layer = 0;
  const RoutingConfig* routing = nullptr;
  ExpertActivation act = ExpertActivation::kSilu;
  kernels::MatrixView router;             // [n_expert][n_embd]
  const float* router_bias = nullptr;     // [n_expert] or nullptr
  const float* selection_bias = nullptr;  // [n_expert] or nullptr
  const float* x = nullptr;               // [n_tokens][n_embd], the normed FFN input
  int64_t n_tokens = 0;
  int64_t n_embd = 0;
  int64_t n_ff = 0;                       // expert width
  int64_t pos0 = 0;                       // for observers
  float* out = nullptr;                   // [n_tokens][n_embd], overwritten with Σ_j w_j · expert_j(x)
};

struct MoeContext {
  RoutingPolicy* policy = nullptr;
  ExpertStore* store = nullptr;
  const ObserverList* observers = nullptr;  // may be nullptr
  ThreadPool* pool = nullptr;
};

Status moe_ffn(const MoeLayerArgs& args, const MoeContext& ctx);

}  // namespace sy::moe
