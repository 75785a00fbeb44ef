// FFN blocks: the dense SwiGLU FFN (leading dense layers, shared experts) and the MoE block, which runs the
// routed experts through moe::moe_ffn and adds the shared expert (optionally sigmoid-gated).
#include <cmath>
#include <vector>

#include "kernels/matmul/matmul.h"
#include "kernels/ops/elementwise.h"
#include "model/blocks.h"
#include "moe/moe_ffn.h"

namespace sy::model {
namespace {

// out [n][d] = down · swiglu(gate · x, up · x)
Status swiglu_ffn(const BlockContext& ctx, Role gate, Role up, Role down, const float* x, float* out) {
  const ModelWeights& w = ctx.model.weights();
  const kernels::MatrixView g = w.matrix(ctx.layer, gate), u = w.matrix(ctx.layer, up);
  const int64_t n = ctx.n_tokens;
  ctx.scratch.ffn_gate.resize(static_cast<size_t>(n * g.n_rows));
  ctx.scratch.ffn_up.resize(static_cast<size_t>(n * g.n_rows));
  float* gv = ctx.scratch.ffn_gate.data();
  float* uv = ctx.scratch.ffn_up.data();
  if (auto s = ctx.matmul(g, x, gv); !s) return s;
  if (auto s = ctx.matmul(u, x, uv); !s) return s;
  for (int64_t t = 0; t < n; ++t) kernels::swiglu(gv + t * g.n_rows, uv + t * g.n_rows, g.n_rows, gv + t * g.n_rows);
  return ctx.matmul(w.matrix(ctx.layer, down), gv, out);
}

}  // namespace

Status dense_ffn(const BlockContext& ctx, const float* x, float* out) {
  return swiglu_ffn(ctx, Role::kFfnGate, Role::kFfnUp, Role::kFfnDown, x, out);
}

Status moe_ffn_block(const BlockContext& ctx, const float* x, float* out) {
  const FfnRecipe& f = ctx.model.config().layers[static_cast<size_t>(ctx.layer)].ffn;
  const MoeRecipe& m = f.moe;
  const ModelWeights& w = ctx.model.weights();
  const int il = ctx.layer;
  const int64_t n = ctx.n_tokens, d = ctx.model.config().common.n_embd;
  ForwardScratch& sc = ctx.scratch;

  sc.moe_segments.clear();
  for (size_t i = 0; i < ctx.segments.size(); ++i)
    sc.moe_segments.push_back({.first = ctx.segments[i].first,
                               .n = ctx.segments[i].n,
                               .pos0 = ctx.segments[i].pos0,
                               .sequence = ctx.batch[i].id,
                               .policy = ctx.batch[i].policy,
                               .observers = ctx.batch[i].observers});
  const moe::MoeLayerArgs args{
      .layer = il,
      .routing = &m.routing,
      .act = f.act == Activation::kSwigluOai ? moe::ExpertActivation::kSwigluOai : moe::ExpertActivation::kSilu,
      .router = w.matrix(il, Role::kRouter),
      .router_bias = w.f32(il, Role::kRouterBias),
      .selection_bias = w.f32(il, Role::kSelectionBias),
      .x = x,
      .n_tokens = n,
      .n_embd = d,
      .n_ff = m.n_ff_exp,
      .segments = sc.moe_segments,
      .out = out};
  const moe::MoeContext mctx{.policy = ctx.batch.front().policy,
                             .store = ctx.options.experts,
                             .observers = ctx.options.observers,
                             .pool = ctx.options.pool,
                             .scratch = &sc.moe};
  if (auto s = moe::moe_ffn(args, mctx); !s) return s;
  if (m.n_ff_shared == 0) return {};

  sc.shared.resize(static_cast<size_t>(n * d));
  float* shared = sc.shared.data();
  if (auto s = swiglu_ffn(ctx, Role::kShGate, Role::kShUp, Role::kShDown, x, shared); !s) return s;
  // The gate is a one-row product (w · x per token), then a sigmoid written as silu(g) / g, as llama.cpp's
  // qwen2moe graph has it (not the same bits as 1 / (1 + e^−g)).
  sc.shared_scale.assign(static_cast<size_t>(n), 1.0f);
  if (m.shared_gate) {
    const kernels::MatrixView gate{.type = TensorType::kF32,
                                   .n_cols = d,
                                   .n_rows = 1,
                                   .data = reinterpret_cast<const uint8_t*>(w.f32(il, Role::kShGateInp)),
                                   .row_stride = static_cast<size_t>(d) * sizeof(float)};
    if (auto s = ctx.matmul(gate, x, sc.shared_scale.data()); !s) return s;
    // At g = 0 that is 0 / 0; the sigmoid's value there is exactly 1/2.
    for (float& g : sc.shared_scale) g = g == 0.0f ? 0.5f : g / (1.0f + std::exp(-g)) / g;
  }
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < d; ++i) out[t * d + i] += sc.shared_scale[static_cast<size_t>(t)] * shared[t * d + i];
  return {};
}

}  // namespace sy::model
