// deepseek2: DeepSeek-V2, V2-Lite, V3 and R1. Multi-head latent attention in the absorbed form (split
// attn_k_b / attn_v_b tensors), adjacent-pair RoPE on the rope part only, YaRN with DeepSeek's mscale rules;
// leading dense layers, then MoE layers with shared experts. V2 routes by softmax; V3 by sigmoid with a
// selection bias (exp_probs_b), group-limited choice, renormalisation and a scale.
#include <cmath>

#include "model/arch_spec.h"
#include "model/archs/blocks.h"
#include "model/hparam_limits.h"

namespace sy::model {
namespace {

Result<moe::Gating> gating_from_key(const Metadata& meta) {
  SY_TRY_ASSIGN(func, meta.u32_or("expert_gating_func", 1));  // missing: softmax, as llama.cpp assumes
  switch (func) {
    case 1: return moe::Gating::kSoftmax;
    case 2: return moe::Gating::kSigmoid;
    default:
      return fail(ErrorCode::kUnsupported, "{}: {} = {} is not supported (1 softmax, 2 sigmoid)", meta.source(),
                  meta.full_key("expert_gating_func"), func);
  }
}

Result<ModelConfig> load_deepseek2(const Metadata& meta) {
  SY_TRY_ASSIGN(common, archs::load_common(meta));

  MlaDims mla;
  SY_TRY_ASSIGN(n_head, meta.u32("attention.head_count"));
  SY_TRY_ASSIGN(kv_lora, meta.u32("attention.kv_lora_rank"));
  SY_TRY_ASSIGN(q_lora, meta.u32_or("attention.q_lora_rank", 0));
  SY_TRY_ASSIGN(n_rot, meta.u32("rope.dimension_count"));
  // The split (absorbed) layout stores the per-head sizes under *_mla; the latent sizes under key/value_length.
  SY_TRY_ASSIGN(head_k, meta.u32_or("attention.key_length_mla", 0));
  SY_TRY_ASSIGN(head_v, meta.u32_or("attention.value_length_mla", 0));
  if (head_k == 0 || head_v == 0)
    return fail(ErrorCode::kUnsupported,
                "{}: no {} / {}: DeepSeek files with the legacy fused attn_kv_b layout are not supported "
                "(re-convert with a current convert_hf_to_gguf.py)",
                meta.source(), meta.full_key("attention.key_length_mla"), meta.full_key("attention.value_length_mla"));
  if (head_k <= n_rot)
    return fail(ErrorCode::kInvalidInput, "{}: key_length_mla {} must exceed rope.dimension_count {}", meta.source(),
                head_k, n_rot);
  mla.n_head = n_head;
  mla.kv_lora_rank = kv_lora;
  // q_lora_rank 0 or absent means a plain attn_q (V2-Lite); the tensors decide when the key disagrees.
  mla.q_lora_rank = meta.has_tensor("blk.0.attn_q.weight") ? 0 : q_lora;
  mla.qk_rope = n_rot;
  mla.qk_nope = head_k - n_rot;
  mla.v_head = head_v;

  SY_TRY_ASSIGN(rope, archs::load_rope(meta, RopeLayout::kNorm, n_rot));
  SY_TRY_ASSIGN(log_mul, meta.f32_or("rope.scaling.yarn_log_multiplier", 0.0f));
  float kq_scale = 1.0f / std::sqrt(static_cast<float>(head_k));
  if (rope.ext_factor != 0.0f && log_mul != 0.0f) {
    // DeepSeek's YaRN: the softmax scale carries mscale² with mscale = 1 + 0.1·mscale_all_dim·ln(factor)
    // (the key stores 0.1·mscale_all_dim), while cos/sin keep magnitude 1 — so cancel the factor ggml's rope
    // applies by itself.
    const float ln_factor = std::log(1.0f / rope.freq_scale);
    const float mscale = rope.attn_factor * (1.0f + log_mul * ln_factor);
    kq_scale = mscale * mscale / std::sqrt(static_cast<float>(head_k));
    rope.attn_factor = rope.attn_factor / (1.0f + 0.1f * ln_factor);
  }

  SY_TRY_ASSIGN(gating, gating_from_key(meta));
  SY_TRY_ASSIGN(norm, meta.flag_or("expert_weights_norm", false));
  SY_TRY_ASSIGN(routing, archs::load_routing_counts(meta, gating, norm));
  SY_TRY_ASSIGN(scale, meta.f32_or("expert_weights_scale", 0.0f));
  SY_TRY_ASSIGN(n_group, meta.u32_or("expert_group_count", 1));
  SY_TRY_ASSIGN(n_group_used, meta.u32_or("expert_group_used_count", 1));
  routing.weight_scale = (scale == 0.0f) ? 1.0f : scale;
  routing.n_group = n_group > 1 ? static_cast<int32_t>(n_group) : 1;
  routing.n_group_used = n_group > 1 ? static_cast<int32_t>(n_group_used) : 1;
  SY_TRY_ASSIGN(n_dense_lead, meta.u32_or("leading_dense_block_count", 0));
  SY_TRY_ASSIGN(n_ff, meta.u32("feed_forward_length"));
  SY_TRY_ASSIGN(n_ff_exp, meta.u32("expert_feed_forward_length"));
  SY_TRY_ASSIGN(n_shared, meta.u32_or("expert_shared_count", 0));
  // Their product is the shared expert width: bound both first, or two forged u32s overflow it.
  if (auto ok = archs::check_range(meta, "expert_feed_forward_length", n_ff_exp, 1, kMaxDim); !ok)
    return tl::unexpected(ok.error());
  if (auto ok = archs::check_range(meta, "expert_shared_count", n_shared, 0, kMaxExperts); !ok)
    return tl::unexpected(ok.error());

  ModelConfig c;
  c.common = common;
  c.common.output_optional = true;
  for (int64_t il = 0; il < common.n_layer; ++il) {
    LayerRecipe layer;
    layer.attn.kind = AttentionKind::kMla;
    layer.attn.mla = mla;
    layer.attn.rope = rope;
    layer.attn.kq_scale = kq_scale;
    if (il < n_dense_lead) {
      layer.ffn.kind = FfnKind::kDense;
      layer.ffn.n_ff = n_ff;
    } else {
      layer.ffn.kind = FfnKind::kMoe;
      layer.ffn.moe.routing = routing;
      layer.ffn.moe.n_ff_exp = n_ff_exp;
      layer.ffn.moe.n_ff_shared = n_shared * n_ff_exp;
      // V3-style files carry the selection bias; its presence (not the gating key) decides, as in llama.cpp.
      layer.ffn.moe.selection_bias = meta.has_tensor(fmt::format("blk.{}.exp_probs_b.bias", il));
    }
    c.layers.push_back(layer);
  }
  return c;
}

}  // namespace

extern const ArchSpec kDeepseek2Spec{"deepseek2", "DeepSeek-V2, V2-Lite, V3, R1", load_deepseek2};

}  // namespace sy::model
