// The blocks the forward pass stacks, one per recipe kind (attention_blocks.cpp, ffn_blocks.cpp). Internal to
// model/: x is the normed block input [n_tokens][n_embd], out the block output of the same shape.
#pragma once

#include "model/forward.h"

namespace sy::model {

struct BlockContext {
  const Model& model;
  int layer;
  int64_t n_tokens;
  int64_t pos0;
  const ForwardOptions& options;
};
Status gqa_attention(const BlockContext& ctx, LayerCache& cache, const float* x, float* out);
Status mla_attention(const BlockContext& ctx, LayerCache& cache, const float* x, float* out);
Status dense_ffn(const BlockContext& ctx, const float* x, float* out);
Status moe_ffn_block(const BlockContext& ctx, const float* x, float* out);

}  // namespace sy::model
