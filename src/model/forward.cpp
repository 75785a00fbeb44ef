#include "model/forward.h"

#include <vector>

#include "kernels/matmul/matmul.h"
#include "kernels/ops/elementwise.h"
#include "model/blocks.h"

namespace sy::model {

Status forward(const Model& model, KvCache& cache, std::span<const int32_t> tokens, int64_t pos0,
               const ForwardOptions& options, float* logits) {
  const ModelConfig& cfg = model.config();
  const ModelWeights& w = model.weights();
  const int64_t n = static_cast<int64_t>(tokens.size()), d = cfg.common.n_embd;
  if (n == 0) return {};
  if (pos0 < 0 || pos0 + n > cache.n_ctx())
    return fail(ErrorCode::kOutOfRange, "context full: positions {}..{} exceed the context of {} tokens", pos0,
                pos0 + n - 1, cache.n_ctx());
  for (int64_t t = 0; t < n; ++t)
    if (tokens[static_cast<size_t>(t)] < 0 || tokens[static_cast<size_t>(t)] >= cfg.common.n_vocab)
      return fail(ErrorCode::kOutOfRange, "token {} at index {} is outside the vocabulary (0..{})",
                  tokens[static_cast<size_t>(t)], t, cfg.common.n_vocab - 1);

  // The residual stream [n][d] and one normed copy / block output of the same shape.
  std::vector<float> x(static_cast<size_t>(n * d)), h(x.size()), y(x.size());
  const kernels::MatrixView embd = w.matrix(ModelWeights::kGlobal, Role::kTokenEmbd);
  for (int64_t t = 0; t < n; ++t)
    if (auto s = kernels::dequantize_row(embd, tokens[static_cast<size_t>(t)], x.data() + t * d); !s) return s;

  const float eps = cfg.common.rms_eps;
  for (int il = 0; il < static_cast<int>(cfg.layers.size()); ++il) {
    const LayerRecipe& recipe = cfg.layers[static_cast<size_t>(il)];
    const BlockContext ctx{.model = model, .layer = il, .n_tokens = n, .pos0 = pos0, .options = options};
    const float* attn_norm = w.f32(il, Role::kAttnNorm);
    for (int64_t t = 0; t < n; ++t) kernels::rms_norm(x.data() + t * d, attn_norm, d, eps, h.data() + t * d);
    Status s = recipe.attn.kind == AttentionKind::kMla ? mla_attention(ctx, cache.layer(static_cast<size_t>(il)), h.data(), y.data())
                                                       : gqa_attention(ctx, cache.layer(static_cast<size_t>(il)), h.data(), y.data());
    if (!s) return s;
    kernels::add_inplace(x.data(), y.data(), n * d);

    const float* ffn_norm = w.f32(il, Role::kFfnNorm);
    for (int64_t t = 0; t < n; ++t) kernels::rms_norm(x.data() + t * d, ffn_norm, d, eps, h.data() + t * d);
    s = recipe.ffn.kind == FfnKind::kMoe ? moe_ffn_block(ctx, h.data(), y.data()) : dense_ffn(ctx, h.data(), y.data());
    if (!s) return s;
    kernels::add_inplace(x.data(), y.data(), n * d);
  }

  const float* out_norm = w.f32(ModelWeights::kGlobal, Role::kOutputNorm);
  const int64_t first_out = options.last_logits_only ? n - 1 : 0;
  for (int64_t t = first_out; t < n; ++t) kernels::rms_norm(x.data() + t * d, out_norm, d, eps, h.data() + t * d);
  return kernels::matmul(w.matrix(ModelWeights::kGlobal, Role::kOutput), h.data() + first_out * d, n - first_out,
                         logits, *options.pool);
}

}  // namespace sy::model
