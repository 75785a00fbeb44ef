// The routed-expert half of an MoE FFN as a fixed dataflow with named stages (STYLE.md §10):
//   route (per segment: one sequence's tokens, its own policy) → (token, slot) records → counts and offsets per
//   expert → ExpertStore.prefetch and ready-first order → per active expert: acquire, gather, gate/up +
//   activation, down, release → weighted scatter-add.
// Every expert's result lands in its own (token, slot) rows and the scatter sums slots in a fixed order, so
// neither the order the experts run in nor how the batch mixes sequences changes a bit of any sequence's result.
// Shared experts are the caller's (they are dense FFNs).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/matmul/matmul.h"
#include "moe/expert_store.h"
#include "moe/observer.h"
#include "moe/routing.h"

namespace sy::moe {

enum class ExpertActivation { kSilu, kSwigluOai };

// The tokens of one sequence in the layer's batch.
struct MoeSegment {
  int64_t first = 0;  // tokens [first, first + n) of the layer input
  int64_t n = 0;
  int64_t pos0 = 0;                         // position of token `first` in its sequence (for observers)
  int32_t sequence = 0;                     // for observers
  RoutingPolicy* policy = nullptr;          // nullptr: the context's
  const ObserverList* observers = nullptr;  // the sequence's own, notified after the context's; may be nullptr
};

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
  int64_t n_ff = 0;                      // expert width
  int64_t pos0 = 0;                      // for observers, when `segments` is empty
  std::span<const MoeSegment> segments;  // ascending and covering the tokens; empty: one, the context's policy
  float* out = nullptr;                  // [n_tokens][n_embd], overwritten with Σ_j w_j · expert_j(x)
};

// Buffers kept between layers and steps so the dataflow does not allocate once grown.
struct MoeScratch {
  struct Expert {  // one thread's
    std::vector<float> xg, g, u, y;
    std::vector<int64_t> run_ends;
    kernels::MatmulScratch matmul;
  };
  std::vector<float> logits;
  std::vector<RoutingDecision> decisions;  // one per segment
  std::vector<int64_t> counts, offsets, records, fill, seg_of_token;
  std::vector<int32_t> active;
  std::vector<float> expert_out;
  std::vector<uint8_t> dropped;  // [n_tokens · k] records skipped by --on-miss skip:W; empty in other modes
  std::vector<Expert> experts;
  std::vector<Status> results;
  kernels::MatmulScratch router_matmul;
  std::vector<int64_t> run_ends;
};

struct MoeContext {
  RoutingPolicy* policy = nullptr;  // for segments without their own
  ExpertStore* store = nullptr;
  const ObserverList* observers = nullptr;  // may be nullptr
  ThreadPool* pool = nullptr;
  MoeScratch* scratch = nullptr;  // nullptr: a temporary one
};

Status moe_ffn(const MoeLayerArgs& args, const MoeContext& ctx);

}  // namespace sy::moe
