#include "model/archs/blocks.h"

#include <cmath>

#include "model/hparam_limits.h"

namespace sy::model::archs {

Status check_range(const Metadata& meta, std::string_view key, int64_t value, int64_t lo, int64_t hi) {
  if (value >= lo && value <= hi) return {};
  return fail(ErrorCode::kInvalidInput, "{}: metadata key {} = {} is out of range ({}..{})", meta.source(),
              meta.full_key(key), value, lo, hi);
}

Result<CommonHparams> load_common(const Metadata& meta) {
  CommonHparams c;
  SY_TRY_ASSIGN(n_embd, meta.u32("embedding_length"));
  SY_TRY_ASSIGN(n_layer, meta.u32("block_count"));
  SY_TRY_ASSIGN(n_ctx, meta.u32_or("context_length", 4096));
  // Specs size their per-layer tables from these right after this returns: bound them first.
  if (auto ok = check_range(meta, "embedding_length", n_embd, 1, kMaxDim); !ok) return tl::unexpected(ok.error());
  if (auto ok = check_range(meta, "block_count", n_layer, 1, kMaxBlockCount); !ok) return tl::unexpected(ok.error());
  if (auto ok = check_range(meta, "context_length", n_ctx, 1, kMaxContextLength); !ok)
    return tl::unexpected(ok.error());
  if (auto blocks = meta.tensor_block_count(); blocks && *blocks > 0 && *blocks != n_layer)
    return fail(ErrorCode::kInvalidInput,
                "{}: metadata key {} = {} but the file's tensors are for {} blocks (blk.0 .. blk.{})", meta.source(),
                meta.full_key("block_count"), n_layer, *blocks, *blocks - 1);
  SY_TRY_ASSIGN(eps, meta.f32_or("attention.layer_norm_rms_epsilon", 1e-6f));
  c.n_embd = n_embd;
  c.n_layer = n_layer;
  c.n_ctx_train = n_ctx;
  c.rms_eps = eps;
  // The vocabulary size: the arch key if written, else the tokenizer's token list, else the embedding rows.
  if (meta.has("vocab_size")) {
    SY_TRY_ASSIGN(v, meta.u32("vocab_size"));
    c.n_vocab = v;
  } else if (const gguf::Value* tokens = meta.find_global("tokenizer.ggml.tokens"); tokens && tokens->as_array()) {
    c.n_vocab = static_cast<int64_t>(tokens->as_array()->size());
  } else if (auto rows = meta.tensor_dim("token_embd.weight", 1)) {
    c.n_vocab = *rows;
  } else {
    return fail(ErrorCode::kNotFound,
                "{}: cannot tell the vocabulary size (no {}, tokenizer.ggml.tokens or token_embd)", meta.source(),
                meta.full_key("vocab_size"));
  }
  if (c.n_vocab <= 0 || c.n_vocab > kMaxVocab)
    return fail(ErrorCode::kInvalidInput,
                "{}: the vocabulary size {} ({}, tokenizer.ggml.tokens or token_embd) is out of range (1..{})",
                meta.source(), c.n_vocab, meta.full_key("vocab_size"), kMaxVocab);
  return c;
}

Result<GqaDims> load_gqa(const Metadata& meta, const CommonHparams& common) {
  GqaDims g;
  SY_TRY_ASSIGN(n_head, meta.u32("attention.head_count"));
  if (n_head == 0)
    return fail(ErrorCode::kInvalidInput, "{}: {} is 0", meta.source(), meta.full_key("attention.head_count"));
  if (auto ok = check_range(meta, "attention.head_count", n_head, 1, kMaxDim); !ok) return tl::unexpected(ok.error());
  SY_TRY_ASSIGN(n_head_kv, meta.u32_or("attention.head_count_kv", n_head));
  SY_TRY_ASSIGN(dk, meta.u32_or("attention.key_length", common.n_embd / n_head));
  SY_TRY_ASSIGN(dv, meta.u32_or("attention.value_length", common.n_embd / n_head));
  if (auto ok = check_range(meta, "attention.key_length", dk, 1, kMaxDim); !ok) return tl::unexpected(ok.error());
  if (auto ok = check_range(meta, "attention.value_length", dv, 1, kMaxDim); !ok) return tl::unexpected(ok.error());
  g.n_head = n_head;
  g.n_head_kv = n_head_kv;
  g.head_dim_k = dk;
  g.head_dim_v = dv;
  return g;
}

Result<RopeConfig> load_rope(const Metadata& meta, RopeLayout layout, int64_t n_rot_default) {
  RopeConfig r;
  r.layout = layout;
  SY_TRY_ASSIGN(n_rot, meta.u32_or("rope.dimension_count", n_rot_default));
  if (auto ok = check_range(meta, "rope.dimension_count", n_rot, 0, kMaxDim); !ok) return tl::unexpected(ok.error());
  SY_TRY_ASSIGN(base, meta.f32_or("rope.freq_base", 10000.0f));
  SY_TRY_ASSIGN(type, meta.str_or("rope.scaling.type", "none"));
  SY_TRY_ASSIGN(factor, meta.f32_or("rope.scaling.factor", 0.0f));
  r.n_rot = static_cast<int32_t>(n_rot);
  r.freq_base = base;
  if (type == "none" || factor == 0.0f || factor == 1.0f) {
    if (type != "none" && type != "linear" && type != "yarn")
      return fail(ErrorCode::kUnsupported, "{}: RoPE scaling type '{}' is not supported", meta.source(), type);
    return r;
  }
  if (!(factor > 0) || !std::isfinite(factor))
    return fail(ErrorCode::kInvalidInput, "{}: {} must be positive", meta.source(),
                meta.full_key("rope.scaling.factor"));
  r.freq_scale = 1.0f / factor;
  if (type == "linear") return r;
  if (type != "yarn")
    return fail(ErrorCode::kUnsupported, "{}: RoPE scaling type '{}' is not supported", meta.source(), type);
  SY_TRY_ASSIGN(n_ctx_train, meta.u32_or("context_length", 4096));
  SY_TRY_ASSIGN(n_ctx_orig, meta.u32_or("rope.scaling.original_context_length", n_ctx_train));
  if (auto ok = check_range(meta, "rope.scaling.original_context_length", n_ctx_orig, 1, kMaxContextLength); !ok)
    return tl::unexpected(ok.error());
  SY_TRY_ASSIGN(beta_fast, meta.f32_or("rope.scaling.yarn_beta_fast", 32.0f));
  SY_TRY_ASSIGN(beta_slow, meta.f32_or("rope.scaling.yarn_beta_slow", 1.0f));
  SY_TRY_ASSIGN(ext, meta.f32_or("rope.scaling.yarn_ext_factor", 1.0f));
  SY_TRY_ASSIGN(attn, meta.f32_or("rope.scaling.yarn_attn_factor", 1.0f));
  r.n_ctx_orig = static_cast<int32_t>(n_ctx_orig);
  r.beta_fast = beta_fast;
  r.beta_slow = beta_slow;
  r.ext_factor = ext;
  r.attn_factor = attn;
  return r;
}

Result<moe::RoutingConfig> load_routing_counts(const Metadata& meta, moe::Gating gating, bool norm_weights) {
  moe::RoutingConfig r;
  SY_TRY_ASSIGN(n_expert, meta.u32("expert_count"));
  SY_TRY_ASSIGN(n_used, meta.u32("expert_used_count"));
  // Checked before the narrowing to int32: 2^32 - 1 must not wrap to a plausible count.
  if (auto ok = check_range(meta, "expert_count", n_expert, 1, kMaxExperts); !ok) return tl::unexpected(ok.error());
  if (auto ok = check_range(meta, "expert_used_count", n_used, 1, n_expert); !ok) return tl::unexpected(ok.error());
  r.gating = gating;
  r.n_expert = static_cast<int32_t>(n_expert);
  r.n_used = static_cast<int32_t>(n_used);
  r.norm_weights = norm_weights;
  return r;
}

LayerRecipe gqa_layer(const GqaDims& gqa, const RopeConfig& rope, QkNorm qk_norm, const FfnRecipe& ffn) {
  LayerRecipe l;
  l.attn.kind = AttentionKind::kGqa;
  l.attn.gqa = gqa;
  l.attn.qk_norm = qk_norm;
  l.attn.rope = rope;
  l.attn.kq_scale = 1.0f / std::sqrt(static_cast<float>(gqa.head_dim_k));
  l.ffn = ffn;
  return l;
}

}  // namespace sy::model::archs
