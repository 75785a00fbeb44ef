// The blocks the forward pass stacks, one per recipe kind (attention_blocks.cpp, ffn_blocks.cpp). Internal to
// model/: x is the normed block input [n_tokens][n_embd] of the whole batch, out the block output of the same
// shape.
#pragma once

#include "model/forward.h"

namespace sy::model {

struct BlockContext {
  const Model& model;
  int layer;
  int64_t n_tokens;
  std::span<const BatchSegment> segments;
  std::span<const SequenceInput> batch;  // parallel to segments
  const ForwardOptions& options;
  ForwardScratch& scratch;

  // y [n_tokens][w.n_rows] = W · x over the whole batch, each sequence a run of its own.
  Status matmul(const kernels::MatrixView& w, const float* x, float* y,
                kernels::MatmulKind kind = kernels::MatmulKind::kDense) const {
    return kernels::matmul(w, x, n_tokens, y, *options.pool,
                           {.kind = kind, .run_ends = scratch.run_ends, .scratch = &scratch.matmul});
  }
};
Status gqa_attention(const BlockContext& ctx, const float* x, float* out);
Status mla_attention(const BlockContext& ctx, const float* x, float* out);
Status dense_ffn(const BlockContext& ctx, const float* x, float* out);
Status moe_ffn_block(const BlockContext& ctx, const float* x, float* out);

}  // namespace sy::model
