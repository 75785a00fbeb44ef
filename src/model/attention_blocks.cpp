// Attention blocks: grouped-query attention (with the optional q/k norms, biases, sinks and sliding window
// of its recipe) and DeepSeek's multi-head latent attention in the absorbed form. Projections run over the
// whole batch; rotation, the cache and attention itself run per sequence.
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
Status project(const BlockContext& ctx, Role weight, Role bias, const float* x, float* y) {
  const ModelWeights& w = ctx.model.weights();
  const kernels::MatrixView m = w.matrix(ctx.layer, weight);
  if (auto s = ctx.matmul(m, x, y); !s) return s;
  if (const float* b = w.f32(ctx.layer, bias))
    for (int64_t t = 0; t < ctx.n_tokens; ++t) kernels::add_inplace(y + t * m.n_rows, b, m.n_rows);
  return {};
}

float* sized(std::vector<float>& v, int64_t n) {
  v.resize(static_cast<size_t>(n));
  return v.data();
}

}  // namespace

Status gqa_attention(const BlockContext& ctx, const float* x, float* out) {
  const AttentionRecipe& a = ctx.model.config().layers[static_cast<size_t>(ctx.layer)].attn;
  const ModelWeights& w = ctx.model.weights();
  const float eps = ctx.model.config().common.rms_eps;
  ForwardScratch& sc = ctx.scratch;
  const int il = ctx.layer;
  const int64_t n = ctx.n_tokens, H = a.gqa.n_head, Hkv = a.gqa.n_head_kv, dk = a.gqa.head_dim_k, dv = a.gqa.head_dim_v;
  const int64_t q_dim = H * dk, k_dim = Hkv * dk, v_dim = Hkv * dv;

  float* q = sized(sc.q, n * q_dim);
  float* k = sized(sc.k, n * k_dim);
  float* v = sized(sc.v, n * v_dim);
  if (auto s = project(ctx, Role::kAttnQ, Role::kAttnQBias, x, q); !s) return s;
  if (auto s = project(ctx, Role::kAttnK, Role::kAttnKBias, x, k); !s) return s;
  if (auto s = project(ctx, Role::kAttnV, Role::kAttnVBias, x, v); !s) return s;

  const float* qn = w.f32(il, Role::kAttnQNorm);
  const float* kn = w.f32(il, Role::kAttnKNorm);
  float* cos_sin = sized(sc.cos_sin, a.rope.n_rot);
  float* o = sized(sc.o, n * H * dv);
  for (const BatchSegment& g : ctx.segments) {
    LayerCache& cache = g.cache->layer(static_cast<size_t>(il));
    for (int64_t i = 0; i < g.n; ++i) {
      const int64_t t = g.first + i, pos = g.pos0 + i;
      float* qt = q + t * q_dim;
      float* kt = k + t * k_dim;
      if (a.qk_norm == QkNorm::kPerHead) {
        for (int64_t hd = 0; hd < H; ++hd) kernels::rms_norm(qt + hd * dk, qn, dk, eps, qt + hd * dk);
        for (int64_t hd = 0; hd < Hkv; ++hd) kernels::rms_norm(kt + hd * dk, kn, dk, eps, kt + hd * dk);
      } else if (a.qk_norm == QkNorm::kWholeVector) {
        kernels::rms_norm(qt, qn, q_dim, eps, qt);
        kernels::rms_norm(kt, kn, k_dim, eps, kt);
      }
      if (a.rope.n_rot > 0) {
        kernels::rope_cos_sin(a.rope, pos, cos_sin);
        kernels::rope_apply(a.rope, cos_sin, qt, H, dk);
        kernels::rope_apply(a.rope, cos_sin, kt, Hkv, dk);
      }
      std::copy_n(kt, k_dim, cache.k.data() + pos * k_dim);
      std::copy_n(v + t * v_dim, v_dim, cache.v.data() + pos * v_dim);
    }
    kernels::attention(kernels::AttentionArgs{.q = q + g.first * q_dim,
                                              .q_token_stride = q_dim,
                                              .k = cache.k.data(),
                                              .k_row_stride = k_dim,
                                              .v = cache.v.data(),
                                              .v_row_stride = v_dim,
                                              .n_tokens = g.n,
                                              .pos0 = g.pos0,
                                              .n_head = H,
                                              .n_head_kv = Hkv,
                                              .head_dim_k = dk,
                                              .head_dim_v = dv,
                                              .scale = a.kq_scale,
                                              .sinks = w.f32(il, Role::kAttnSinks),
                                              .window = a.sliding_window,
                                              .out = o + g.first * H * dv,
                                              .out_token_stride = H * dv},
                       *ctx.options.pool, &sc.attention);
  }
  return project(ctx, Role::kAttnOut, Role::kAttnOutBias, o, out);
}

Status mla_attention(const BlockContext& ctx, const float* x, float* out) {
  const AttentionRecipe& a = ctx.model.config().layers[static_cast<size_t>(ctx.layer)].attn;
  const MlaDims& m = a.mla;
  const ModelWeights& w = ctx.model.weights();
  const float eps = ctx.model.config().common.rms_eps;
  ForwardScratch& sc = ctx.scratch;
  const int il = ctx.layer;
  const int64_t n = ctx.n_tokens, H = m.n_head, r = m.kv_lora_rank, nope = m.qk_nope, rope = m.qk_rope;
  const int64_t q_head = nope + rope, q_dim = H * q_head, row = r + rope;

  // q [n][H][nope | rope], from a low-rank pair (V3) or one projection (V2-Lite).
  float* q = sized(sc.q, n * q_dim);
  if (m.q_lora_rank > 0) {
    float* qa = sized(sc.mla_qa, n * m.q_lora_rank);
    if (auto s = ctx.matmul(w.matrix(il, Role::kAttnQA), x, qa); !s) return s;
    const float* qa_norm = w.f32(il, Role::kAttnQANorm);
    for (int64_t t = 0; t < n; ++t)
      kernels::rms_norm(qa + t * m.q_lora_rank, qa_norm, m.q_lora_rank, eps, qa + t * m.q_lora_rank);
    if (auto s = ctx.matmul(w.matrix(il, Role::kAttnQB), qa, q); !s) return s;
  } else {
    if (auto s = ctx.matmul(w.matrix(il, Role::kAttnQ), x, q); !s) return s;
  }

  // [c | k_rope] per token: c is normed, k_rope rotated; both go to the cache as one row.
  float* kv = sized(sc.mla_kv, n * row);
  if (auto s = ctx.matmul(w.matrix(il, Role::kAttnKvA), x, kv); !s) return s;
  const float* kv_norm = w.f32(il, Role::kAttnKvANorm);
  float* cos_sin = sized(sc.cos_sin, rope);
  for (const BatchSegment& g : ctx.segments) {
    LayerCache& cache = g.cache->layer(static_cast<size_t>(il));
    for (int64_t i = 0; i < g.n; ++i) {
      const int64_t t = g.first + i, pos = g.pos0 + i;
      float* kvt = kv + t * row;
      kernels::rms_norm(kvt, kv_norm, r, eps, kvt);
      kernels::rope_cos_sin(a.rope, pos, cos_sin);
      kernels::rope_apply(a.rope, cos_sin, kvt + r, 1, rope);
      kernels::rope_apply(a.rope, cos_sin, q + t * q_dim + nope, H, q_head);
      std::copy_n(kvt, row, cache.k.data() + pos * row);
    }
  }

  // Absorb W_kb into the query: q_full[t][h] = [W_kb[h] · q_nope[t][h] (r) | q_rope[t][h] (rope)].
  float* q_full = sized(sc.mla_q_full, n * H * row);
  float* gathered = sized(sc.mla_gathered, n * std::max(nope, r));
  float* absorbed = sized(sc.mla_absorbed, n * std::max(r, m.v_head));
  for (int64_t hd = 0; hd < H; ++hd) {
    for (int64_t t = 0; t < n; ++t) std::copy_n(q + t * q_dim + hd * q_head, nope, gathered + t * nope);
    if (auto s = ctx.matmul(w.slab(il, Role::kAttnKB, hd), gathered, absorbed, kernels::MatmulKind::kStackedPermuted);
        !s)
      return s;
    for (int64_t t = 0; t < n; ++t) {
      float* dst = q_full + (t * H + hd) * row;
      std::copy_n(absorbed + t * r, r, dst);
      std::copy_n(q + t * q_dim + hd * q_head + nope, rope, dst + r);
    }
  }

  // Attention in the latent space: one shared "kv head", values are the c part of each cached row.
  float* latent = sized(sc.mla_latent, n * H * r);
  for (const BatchSegment& g : ctx.segments) {
    LayerCache& cache = g.cache->layer(static_cast<size_t>(il));
    kernels::attention(kernels::AttentionArgs{.q = q_full + g.first * H * row,
                                              .q_token_stride = H * row,
                                              .k = cache.k.data(),
                                              .k_row_stride = row,
                                              .v = cache.k.data(),
                                              .v_row_stride = row,
                                              .n_tokens = g.n,
                                              .pos0 = g.pos0,
                                              .n_head = H,
                                              .n_head_kv = 1,
                                              .head_dim_k = row,
                                              .head_dim_v = r,
                                              .scale = a.kq_scale,
                                              .sinks = nullptr,
                                              .window = a.sliding_window,
                                              .out = latent + g.first * H * r,
                                              .out_token_stride = H * r},
                       *ctx.options.pool, &sc.attention);
  }

  // Per head back to v_head values with W_vb, then the output projection.
  float* o = sized(sc.o, n * H * m.v_head);
  for (int64_t hd = 0; hd < H; ++hd) {
    for (int64_t t = 0; t < n; ++t) std::copy_n(latent + (t * H + hd) * r, r, gathered + t * r);
    if (auto s = ctx.matmul(w.slab(il, Role::kAttnVB, hd), gathered, absorbed, kernels::MatmulKind::kStacked); !s)
      return s;
    for (int64_t t = 0; t < n; ++t) std::copy_n(absorbed + t * m.v_head, m.v_head, o + (t * H + hd) * m.v_head);
  }
  return ctx.matmul(w.matrix(il, Role::kAttnOut), o, out);
}

}  // namespace sy::model
