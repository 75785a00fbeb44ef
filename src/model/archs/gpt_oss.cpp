// gpt-oss: attention with q/k/v/o biases and one sink logit per head, sliding-window attention on the layers
// the pattern marks (even layers by default), NEOX RoPE with YaRN; MoE with a router bias, top-k on the raw
// logits then softmax over those k, per-expert biases and the clamped SwiGLU (swiglu_oai).
#include "model/arch_spec.h"
#include "model/archs/blocks.h"

namespace sy::model {
namespace {

Result<ModelConfig> load_gpt_oss(const Metadata& meta) {
  SY_TRY_ASSIGN(common, archs::load_common(meta));
  SY_TRY_ASSIGN(gqa, archs::load_gqa(meta, common));
  SY_TRY_ASSIGN(rope, archs::load_rope(meta, RopeLayout::kNeox, gqa.head_dim_k));
  SY_TRY_ASSIGN(routing, archs::load_routing_counts(meta, moe::Gating::kSoftmaxSelected, /*norm_weights=*/false));
  SY_TRY_ASSIGN(n_ff_exp, meta.u32("expert_feed_forward_length"));
  SY_TRY_ASSIGN(window, meta.u32_or("attention.sliding_window", 0));
  SY_TRY_ASSIGN(pattern, meta.u32_or("attention.sliding_window_pattern", 2));
  if (pattern == 0)
    return fail(ErrorCode::kInvalidInput, "{}: {} is 0", meta.source(),
                meta.full_key("attention.sliding_window_pattern"));
  FfnRecipe ffn{.kind = FfnKind::kMoe, .act = Activation::kSwigluOai, .n_ff = 0, .moe = {}};
  ffn.moe.routing = routing;
  ffn.moe.n_ff_exp = n_ff_exp;
  ffn.moe.router_bias = true;
  ffn.moe.expert_bias = true;
  ModelConfig c;
  c.common = common;
  for (int64_t il = 0; il < common.n_layer; ++il) {
    LayerRecipe layer = archs::gqa_layer(gqa, rope, QkNorm::kNone, ffn);
    layer.attn.qkv_bias = true;
    layer.attn.out_bias = true;
    layer.attn.sinks = true;
    // Within each period of `pattern` layers all but the last use the window (llama.cpp's convention).
    if (window > 0 && il % pattern < pattern - 1) layer.attn.sliding_window = window;
    layer.ffn_norm = FfnNormName::kPostAttentionNorm;
    c.layers.push_back(layer);
  }
  return c;
}

}  // namespace

extern const ArchSpec kGptOssSpec{"gpt-oss", "gpt-oss (20b, 120b)", load_gpt_oss};

}  // namespace sy::model
