// The generic forward pass over a batch that may span several sequences: embedding → for each layer
// (attention block, FFN block, both pre-norm with residuals) → final norm → output head. Which blocks run is
// read from the layer recipes; nothing here names an architecture.
//
// Every projection, dense FFN and expert product runs once over the tokens of all sequences, so a weight read
// from memory serves every sequence; attention runs per sequence on its own KV cache. A sequence's tokens
// form a run of their own in every product (kernels/matmul/matmul.h), so each sequence's logits are bit for bit
// what it would get alone.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/matmul/matmul.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "moe/moe_ffn.h"
#include "moe/observer.h"
#include "moe/routing.h"

namespace sy::model {

// One sequence's part of a batch.
struct SequenceInput {
  KvCache* cache = nullptr;  // required: positions [pos0, pos0 + tokens.size()) are written
  std::span<const int32_t> tokens;
  int64_t pos0 = 0;
  bool all_logits = false;  // logits of every token, else of the last one only (what generation needs)
  float* logits = nullptr;  // required: [all_logits ? tokens.size() : 1][n_vocab]
  // Optional: the same rows' final hidden state after the output norm, i.e. the output matrix's input
  // [all_logits ? tokens.size() : 1][n_embd] (sentence embeddings, runtime/text_embedder.h).
  float* hidden = nullptr;
  moe::RoutingPolicy* policy = nullptr;          // required
  const moe::ObserverList* observers = nullptr;  // the sequence's own observers, or nullptr
  int32_t id = 0;                                // passed to observers as RoutingEvent::sequence
};

// One sequence's tokens within the batch (the forward pass's own bookkeeping).
struct BatchSegment {
  int64_t first = 0;  // tokens [first, first + n) of the batch
  int64_t n = 0;
  int64_t pos0 = 0;          // the position of token `first` in its sequence
  KvCache* cache = nullptr;  // the sequence's
};

struct ForwardOptions {
  moe::ExpertStore* experts = nullptr;           // required (e.g. model.resident_experts())
  const moe::ObserverList* observers = nullptr;  // see every sequence's routing; may be nullptr
  ThreadPool* pool = nullptr;                    // required
};

// The forward pass's buffers, kept between calls: sized by the largest batch seen, so steps of a steady batch
// size allocate nothing. One per engine; not shared between concurrent forward calls.
struct ForwardScratch {
  std::vector<float> x, h, y;                         // [n_tokens][n_embd]: residual stream, normed copy, block output
  std::vector<float> q, k, v, o, cos_sin, attention;  // attention
  std::vector<float> mla_qa, mla_kv, mla_q_full, mla_gathered, mla_absorbed, mla_latent;
  std::vector<float> ffn_gate, ffn_up, shared, shared_scale;  // dense FFN and shared experts
  std::vector<float> out_h, out_logits;                       // the rows that need logits, and their logits
  std::vector<int64_t> run_ends, out_run_ends;
  std::vector<BatchSegment> segments;
  std::vector<SequenceInput> inputs;  // the batch's sequences that have tokens, parallel to segments
  kernels::MatmulScratch matmul;
  moe::MoeScratch moe;
  std::vector<moe::MoeSegment> moe_segments;
};

// Runs every sequence's tokens at its positions and writes its logits. Checks every token and each cache's
// room before computing anything; on an error no cache has changed position (the caller keeps positions).
Status forward(const Model& model, std::span<const SequenceInput> batch, const ForwardOptions& options,
               ForwardScratch& scratch);

}  // namespace sy::model
