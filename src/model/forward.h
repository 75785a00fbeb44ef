// The generic forward pass: embedding → for each layer (attention block, FFN block, both pre-norm with
// residuals) → final norm → output head. Which blocks run is read from the layer recipes; nothing here
// names an architecture.
#pragma once

#include <cstdint>
#include <span>

#include "core/error.h"
#include "core/thread_pool.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "moe/observer.h"
#include "moe/routing.h"

namespace sy::model {

struct ForwardOptions {
  moe::RoutingPolicy* policy = nullptr;  // required
  moe::ExpertStore* experts = nullptr;   // required (e.g. model.resident_experts())
  const moe::ObserverList* observers = nullptr;
  ThreadPool* pool = nullptr;  // required
  // Only the last position's logits (generation needs no others): skips the output head, the largest
  // matrix of many models, for every other prompt token. `logits` is then [1][n_vocab].
  bool last_logits_only = false;
};

// Runs tokens at positions pos0.. and writes logits [n_tokens][n_vocab] (every position, or only the last
// with last_logits_only) into `logits`.
// Checks tokens and cache room before computing anything.
Status forward(const Model& model, KvCache& cache, std::span<const int32_t> tokens, int64_t pos0,
               const ForwardOptions& options, float* logits);

}  // namespace sy::model
