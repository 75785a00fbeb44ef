#include "model/forward.h"

#include <algorithm>

#include "kernels/matmul/matmul.h"
#include "kernels/ops/elementwise.h"
#include "model/blocks.h"

namespace sy::model {
namespace {

Status check_batch(const ModelConfig& cfg, std::span<const SequenceInput> batch) {
  for (size_t i = 0; i < batch.size(); ++i) {
    const SequenceInput& s = batch[i];
    if (s.cache == nullptr || s.logits == nullptr || s.policy == nullptr)
      return fail(ErrorCode::kInvalidInput, "batch entry {}: a sequence needs a cache, a logits buffer and a policy",
                  i);
    for (size_t j = 0; j < i; ++j)
      if (batch[j].cache == s.cache)
        return fail(ErrorCode::kInvalidInput, "batch entries {} and {} are the same sequence", j, i);
    const auto n = static_cast<int64_t>(s.tokens.size());
    if (s.pos0 < 0 || s.pos0 + n > s.cache->n_ctx())
      return fail(ErrorCode::kOutOfRange, "context full: positions {}..{} exceed the context of {} tokens", s.pos0,
                  s.pos0 + n - 1, s.cache->n_ctx());
    for (int64_t t = 0; t < n; ++t)
      if (s.tokens[static_cast<size_t>(t)] < 0 || s.tokens[static_cast<size_t>(t)] >= cfg.common.n_vocab)
        return fail(ErrorCode::kOutOfRange, "token {} at index {} is outside the vocabulary (0..{})",
                    s.tokens[static_cast<size_t>(t)], t, cfg.common.n_vocab - 1);
  }
  return {};
}

}  // namespace

Status forward(const Model& model, std::span<const SequenceInput> batch, const ForwardOptions& options,
               ForwardScratch& sc) {
  const ModelConfig& cfg = model.config();
  const ModelWeights& w = model.weights();
  const int64_t d = cfg.common.n_embd, n_vocab = cfg.common.n_vocab;
  if (auto s = check_batch(cfg, batch); !s) return s;

  // Segments (sequences with tokens) and the runs every product keeps apart.
  std::vector<BatchSegment>& segments = sc.segments;
  std::vector<SequenceInput>& inputs = sc.inputs;
  segments.clear();
  inputs.clear();
  sc.run_ends.clear();
  int64_t n = 0;
  for (const SequenceInput& s : batch) {
    if (s.tokens.empty()) continue;
    const auto len = static_cast<int64_t>(s.tokens.size());
    if (auto r = s.cache->reserve(s.pos0 + len); !r) return r;
    segments.push_back({.first = n, .n = len, .pos0 = s.pos0, .cache = s.cache});
    inputs.push_back(s);
    n += len;
    sc.run_ends.push_back(n);
  }
  if (n == 0) return {};

  // The residual stream [n][d] and one normed copy / block output of the same shape.
  sc.x.resize(static_cast<size_t>(n * d));
  sc.h.resize(sc.x.size());
  sc.y.resize(sc.x.size());
  float* x = sc.x.data();
  float* h = sc.h.data();
  float* y = sc.y.data();
  const kernels::MatrixView embd = w.matrix(ModelWeights::kGlobal, Role::kTokenEmbd);
  for (const BatchSegment& g : segments) {
    const SequenceInput& s = inputs[static_cast<size_t>(&g - segments.data())];
    for (int64_t t = 0; t < g.n; ++t)
      if (auto st = kernels::dequantize_row(embd, s.tokens[static_cast<size_t>(t)], x + (g.first + t) * d); !st)
        return st;
  }

  const float eps = cfg.common.rms_eps;
  for (int il = 0; il < static_cast<int>(cfg.layers.size()); ++il) {
    const LayerRecipe& recipe = cfg.layers[static_cast<size_t>(il)];
    const BlockContext ctx{.model = model,
                           .layer = il,
                           .n_tokens = n,
                           .segments = segments,
                           .batch = inputs,
                           .options = options,
                           .scratch = sc};
    const float* attn_norm = w.f32(il, Role::kAttnNorm);
    for (int64_t t = 0; t < n; ++t) kernels::rms_norm(x + t * d, attn_norm, d, eps, h + t * d);
    Status s = recipe.attn.kind == AttentionKind::kMla ? mla_attention(ctx, h, y) : gqa_attention(ctx, h, y);
    if (!s) return s;
    kernels::add_inplace(x, y, n * d);

    const float* ffn_norm = w.f32(il, Role::kFfnNorm);
    for (int64_t t = 0; t < n; ++t) kernels::rms_norm(x + t * d, ffn_norm, d, eps, h + t * d);
    s = recipe.ffn.kind == FfnKind::kMoe ? moe_ffn_block(ctx, h, y) : dense_ffn(ctx, h, y);
    if (!s) return s;
    kernels::add_inplace(x, y, n * d);
  }

  // The rows that need logits: every token of an all-logits sequence, the last of the others.
  const float* out_norm = w.f32(ModelWeights::kGlobal, Role::kOutputNorm);
  int64_t n_out = 0;
  sc.out_run_ends.clear();
  for (const BatchSegment& g : segments) {
    n_out += inputs[static_cast<size_t>(&g - segments.data())].all_logits ? g.n : 1;
    sc.out_run_ends.push_back(n_out);
  }
  sc.out_h.resize(static_cast<size_t>(n_out * d));
  int64_t row = 0;
  for (const BatchSegment& g : segments) {
    const int64_t first = inputs[static_cast<size_t>(&g - segments.data())].all_logits ? g.first : g.first + g.n - 1;
    for (int64_t t = first; t < g.first + g.n; ++t, ++row)
      kernels::rms_norm(x + t * d, out_norm, d, eps, sc.out_h.data() + row * d);
  }
  sc.out_logits.resize(static_cast<size_t>(n_out * n_vocab));
  if (auto s =
          kernels::matmul(w.matrix(ModelWeights::kGlobal, Role::kOutput), sc.out_h.data(), n_out, sc.out_logits.data(),
                          *options.pool, {.run_ends = sc.out_run_ends, .scratch = &sc.matmul});
      !s)
    return s;
  int64_t begin = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const int64_t end = sc.out_run_ends[i];
    std::copy(sc.out_logits.begin() + begin * n_vocab, sc.out_logits.begin() + end * n_vocab, inputs[i].logits);
    if (inputs[i].hidden != nullptr)
      std::copy(sc.out_h.begin() + begin * d, sc.out_h.begin() + end * d, inputs[i].hidden);
    begin = end;
  }
  return {};
}

}  // namespace sy::model
