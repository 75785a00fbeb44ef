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
Status swiglu_ffn(const ModelWeights& w, int il, Role gate, Role up, Role down, const float* x, int64_t n, float* out,
                  ThreadPool& pool) {
  const kernels::MatrixView g = w.matrix(il, gate), u = w.matrix(il, up);
  std::vector<float> gv(static_cast<size_t>(n * g.n_rows)), uv(gv.size());
  if (auto s = kernels::matmul(g, x, n, gv.data(), pool); !s) return s;
  if (auto s = kernels::matmul(u, x, n, uv.data(), pool); !s) return s;
  for (int64_t t = 0; t < n; ++t)
    kernels::swiglu(gv.data() + t * g.n_rows, uv.data() + t * g.n_rows, g.n_rows, gv.data() + t * g.n_rows);
  return kernels::matmul(w.matrix(il, down), gv.data(), n, out, pool);
}

}  // namespace

Status dense_ffn(const BlockContext& ctx, const float* x, float* out) {
  return swiglu_ffn(ctx.model.weights(), ctx.layer, Role::kFfnGate, Role::kFfnUp, Role::kFfnDown, x, ctx.n_tokens, out,
                    *ctx.options.pool);
}

Status moe_ffn_block(const BlockContext& ctx, const float* x, float* out) {
  const FfnRecipe& f = ctx.model.config().layers[static_cast<size_t>(ctx.layer)].ffn;
  const MoeRecipe& m = f.moe;
  const ModelWeights& w = ctx.model.weights();
  const int il = ctx.layer;
  const int64_t n = ctx.n_tokens, d = ctx.model.config().common.n_embd;
  ThreadPool& pool = *ctx.options.pool;

  const moe::MoeLayerArgs args{.layer = il,
                               .routing = &m.routing,
                               .act = f.act == Activation::kSwigluOai ? moe::ExpertActivation::kSwigluOai
                                                                      : moe::ExpertActivation::kSilu,
                               .router = w.matrix(il, Role::kRouter),
                               .router_bias = w.f32(il, Role::kRouterBias),
                               .selection_bias = w.f32(il, Role::kSelectionBias),
                               .x = x,
                               .n_tokens = n,
                               .n_embd = d,
                               .n_ff = m.n_ff_exp,
                               .pos0 = ctx.pos0,
                               .out = out};
  const moe::MoeContext mctx{.policy = ctx.options.policy,
                             .store = ctx.options.experts,
                             .observers = ctx.options.observers,
                             .pool = &pool};
  if (auto s = moe::moe_ffn(args, mctx); !s) return s;
  if (m.n_ff_shared == 0) return {};

  std::vector<float> shared(static_cast<size_t>(n * d));
  if (auto s = swiglu_ffn(w, il, Role::kShGate, Role::kShUp, Role::kShDown, x, n, shared.data(), pool); !s) return s;
  // The gate is a one-row product (w · x per token), then a sigmoid written as silu(g) / g, as llama.cpp's
  // qwen2moe graph has it (not the same bits as 1 / (1 + e^−g)).
  std::vector<float> scale(static_cast<size_t>(n), 1.0f);
  if (m.shared_gate) {
    const kernels::MatrixView gate{.type = TensorType::kF32, .n_cols = d, .n_rows = 1,
                                   .data = reinterpret_cast<const uint8_t*>(w.f32(il, Role::kShGateInp)),
                                   .row_stride = static_cast<size_t>(d) * sizeof(float)};
    if (auto s = kernels::matmul(gate, x, n, scale.data(), pool); !s) return s;
    // At g = 0 that is 0 / 0; the sigmoid's value there is exactly 1/2.
    for (float& g : scale) g = g == 0.0f ? 0.5f : g / (1.0f + std::exp(-g)) / g;
  }
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < d; ++i) out[t * d + i] += scale[static_cast<size_t>(t)] * shared[static_cast<size_t>(t * d + i)];
  return {};
}

}  // namespace sy::model
