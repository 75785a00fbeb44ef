// Attention blocks: grouped-query attention (with the optional q/k norms, biases, sinks and sliding window
// of its recipe) and DeepSeek's multi-head latent attention in the absorbed form.
#include <algorithm>
#include <vector>

#include "kernels/matmul/matmul.h"
#include "kernels/ops/attention.h"
#include "kernels/ops/elementwise.h"
#include "kernels/ops/rope.h"
#include "model/blocks.h"

namespace sy::model {
namespace {

// y [n][rows] = W · x (+ bias).
Status project(const ModelWeights& w, int il, Role weight, Role bias, const float* x, int64_t n, float* y,
               ThreadPool& pool) {
  const kernels::MatrixView m = w.matrix(il, weight);
  if (auto s = kernels::matmul(m, x, n, y, pool); !s) return s;
  if (const float* b = w.f32(il, bias))
    for (int64_t t = 0; t < n; ++t) kernels::add_inplace(y + t * m.n_rows, b, m.n_rows);
  return {};
}

}  // namespace

Status gqa_attention(const BlockContext& ctx, LayerCache& cache, const float* x, float* out) {
  const AttentionRecipe& a = ctx.model.config().layers[static_cast<size_t>(ctx.layer)].attn;
  const ModelWeights& w = ctx.model.weights();
  const float eps = ctx.model.config().common.rms_eps;
  ThreadPool& pool = *ctx.options.pool;
  const int il = ctx.layer;
  const int64_t n = ctx.n_tokens, H = a.gqa.n_head, Hkv = a.gqa.n_head_kv, dk = a.gqa.head_dim_k, dv = a.gqa.head_dim_v;
  const int64_t q_dim = H * dk, k_dim = Hkv * dk, v_dim = Hkv * dv;

  std::vector<float> q(static_cast<size_t>(n * q_dim)), k(static_cast<size_t>(n * k_dim)), v(static_cast<size_t>(n * v_dim));
  if (auto s = project(w, il, Role::kAttnQ, Role::kAttnQBias, x, n, q.data(), pool); !s) return s;
  if (auto s = project(w, il, Role::kAttnK, Role::kAttnKBias, x, n, k.data(), pool); !s) return s;
  if (auto s = project(w, il, Role::kAttnV, Role::kAttnVBias, x, n, v.data(), pool); !s) return s;

  const float* qn = w.f32(il, Role::kAttnQNorm);
  const float* kn = w.f32(il, Role::kAttnKNorm);
  std::vector<float> cos_sin(static_cast<size_t>(a.rope.n_rot));
  for (int64_t t = 0; t < n; ++t) {
    float* qt = q.data() + t * q_dim;
    float* kt = k.data() + t * k_dim;
    if (a.qk_norm == QkNorm::kPerHead) {
      for (int64_t h = 0; h < H; ++h) kernels::rms_norm(qt + h * dk, qn, dk, eps, qt + h * dk);
      for (int64_t h = 0; h < Hkv; ++h) kernels::rms_norm(kt + h * dk, kn, dk, eps, kt + h * dk);
    } else if (a.qk_norm == QkNorm::kWholeVector) {
      kernels::rms_norm(qt, qn, q_dim, eps, qt);
      kernels::rms_norm(kt, kn, k_dim, eps, kt);
    }
    if (a.rope.n_rot > 0) {
      kernels::rope_cos_sin(a.rope, ctx.pos0 + t, cos_sin.data());
      kernels::rope_apply(a.rope, cos_sin.data(), qt, H, dk);
      kernels::rope_apply(a.rope, cos_sin.data(), kt, Hkv, dk);
    }
    std::copy_n(kt, k_dim, cache.k.data() + (ctx.pos0 + t) * k_dim);
    std::copy_n(v.data() + t * v_dim, v_dim, cache.v.data() + (ctx.pos0 + t) * v_dim);
  }

  std::vector<float> o(static_cast<size_t>(n * H * dv));
  kernels::attention(kernels::AttentionArgs{.q = q.data(),
                                            .q_token_stride = q_dim,
                                            .k = cache.k.data(),
                                            .k_row_stride = k_dim,
                                            .v = cache.v.data(),
                                            .v_row_stride = v_dim,
                                            .n_tokens = n,
                                            .pos0 = ctx.pos0,
                                            .n_head = H,
                                            .n_head_kv = Hkv,
                                            .head_dim_k = dk,
                                            .head_dim_v = dv,
                                            .scale = a.kq_scale,
                                            .sinks = w.f32(il, Role::kAttnSinks),
                                            .window = a.sliding_window,
                                            .out = o.data(),
                                            .out_token_stride = H * dv},
                     pool);
  return project(w, il, Role::kAttnOut, Role::kAttnOutBias, o.data(), n, out, pool);
}

Status mla_attention(const BlockContext& ctx, LayerCache& cache, const float* x, float* out) {
  const AttentionRecipe& a = ctx.model.config().layers[static_cast<size_t>(ctx.layer)].attn;
  const MlaDims& m = a.mla;
  const ModelWeights& w = ctx.model.weights();
  const float eps = ctx.model.config().common.rms_eps;
  ThreadPool& pool = *ctx.options.pool;
  const int il = ctx.layer;
  const int64_t n = ctx.n_tokens, H = m.n_head, r = m.kv_lora_rank, nope = m.qk_nope, rope = m.qk_rope;
  const int64_t q_head = nope + rope, q_dim = H * q_head, row = r + rope;

  // q [n][H][nope | rope], from a low-rank pair (V3) or one projection (V2-Lite).
  std::vector<float> q(static_cast<size_t>(n * q_dim));
  if (m.q_lora_rank > 0) {
    std::vector<float> qa(static_cast<size_t>(n * m.q_lora_rank));
    if (auto s = kernels::matmul(w.matrix(il, Role::kAttnQA), x, n, qa.data(), pool); !s) return s;
    const float* qa_norm = w.f32(il, Role::kAttnQANorm);
    for (int64_t t = 0; t < n; ++t)
      kernels::rms_norm(qa.data() + t * m.q_lora_rank, qa_norm, m.q_lora_rank, eps, qa.data() + t * m.q_lora_rank);
    if (auto s = kernels::matmul(w.matrix(il, Role::kAttnQB), qa.data(), n, q.data(), pool); !s) return s;
  } else {
    if (auto s = kernels::matmul(w.matrix(il, Role::kAttnQ), x, n, q.data(), pool); !s) return s;
  }

  // [c | k_rope] per token: c is normed, k_rope rotated; both go to the cache as one row.
  std::vector<float> kv(static_cast<size_t>(n * row));
  if (auto s = kernels::matmul(w.matrix(il, Role::kAttnKvA), x, n, kv.data(), pool); !s) return s;
  const float* kv_norm = w.f32(il, Role::kAttnKvANorm);
  std::vector<float> cos_sin(static_cast<size_t>(rope));
  for (int64_t t = 0; t < n; ++t) {
    float* kvt = kv.data() + t * row;
    kernels::rms_norm(kvt, kv_norm, r, eps, kvt);
    kernels::rope_cos_sin(a.rope, ctx.pos0 + t, cos_sin.data());
    kernels::rope_apply(a.rope, cos_sin.data(), kvt + r, 1, rope);
    kernels::rope_apply(a.rope, cos_sin.data(), q.data() + t * q_dim + nope, H, q_head);
    std::copy_n(kvt, row, cache.k.data() + (ctx.pos0 + t) * row);
  }

  // Absorb W_kb into the query: q_full[t][h] = [W_kb[h] · q_nope[t][h] (r) | q_rope[t][h] (rope)].
  std::vector<float> q_full(static_cast<size_t>(n * H * row));
  std::vector<float> gathered(static_cast<size_t>(n * std::max(nope, r))), absorbed(static_cast<size_t>(n * std::max(r, m.v_head)));
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t t = 0; t < n; ++t) std::copy_n(q.data() + t * q_dim + h * q_head, nope, gathered.data() + t * nope);
    if (auto s = kernels::matmul(w.slab(il, Role::kAttnKB, h), gathered.data(), n, absorbed.data(), pool,
                                kernels::MatmulKind::kStackedPermuted); !s) return s;
    for (int64_t t = 0; t < n; ++t) {
      float* dst = q_full.data() + (t * H + h) * row;
      std::copy_n(absorbed.data() + t * r, r, dst);
      std::copy_n(q.data() + t * q_dim + h * q_head + nope, rope, dst + r);
    }
  }

  // Attention in the latent space: one shared "kv head", values are the c part of each cached row.
  std::vector<float> latent(static_cast<size_t>(n * H * r));
  kernels::attention(kernels::AttentionArgs{.q = q_full.data(),
                                            .q_token_stride = H * row,
                                            .k = cache.k.data(),
                                            .k_row_stride = row,
                                            .v = cache.k.data(),
                                            .v_row_stride = row,
                                            .n_tokens = n,
                                            .pos0 = ctx.pos0,
                                            .n_head = H,
                                            .n_head_kv = 1,
                                            .head_dim_k = row,
                                            .head_dim_v = r,
                                            .scale = a.kq_scale,
                                            .sinks = nullptr,
                                            .window = a.sliding_window,
                                            .out = latent.data(),
                                            .out_token_stride = H * r},
                     pool);

  // Per head back to v_head values with W_vb, then the output projection.
  std::vector<float> o(static_cast<size_t>(n * H * m.v_head));
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t t = 0; t < n; ++t) std::copy_n(latent.data() + (t * H + h) * r, r, gathered.data() + t * r);
    if (auto s = kernels::matmul(w.slab(il, Role::kAttnVB, h), gathered.data(), n, absorbed.data(), pool,
                                kernels::MatmulKind::kStacked); !s) return s;
    for (int64_t t = 0; t < n; ++t)
      std::copy_n(absorbed.data() + t * m.v_head, m.v_head, o.data() + (t * H + h) * m.v_head);
  }
  return kernels::matmul(w.matrix(il, Role::kAttnOut), o.data(), n, out, pool);
}

}  // namespace sy::model
