// qwen2moe (Qwen1.5-MoE, Qwen2-MoE): q/k/v biases, NEOX RoPE, softmax → top-k without renormalisation,
// plus one shared expert whose output is scaled by sigmoid(ffn_gate_inp_shexp · x).
#include "model/arch_spec.h"
#include "model/archs/blocks.h"

namespace sy::model {
namespace {

Result<ModelConfig> load_qwen2moe(const Metadata& meta) {
  SY_TRY_ASSIGN(common, archs::load_common(meta));
  SY_TRY_ASSIGN(gqa, archs::load_gqa(meta, common));
  SY_TRY_ASSIGN(rope, archs::load_rope(meta, RopeLayout::kNeox, gqa.head_dim_k));
  SY_TRY_ASSIGN(routing, archs::load_routing_counts(meta, moe::Gating::kSoftmax, /*norm_weights=*/false));
  SY_TRY_ASSIGN(n_ff_exp, meta.u32("expert_feed_forward_length"));
  SY_TRY_ASSIGN(n_ff_shared, meta.u32("expert_shared_feed_forward_length"));
  FfnRecipe ffn{.kind = FfnKind::kMoe, .act = Activation::kSilu, .n_ff = 0, .moe = {}};
  ffn.moe.routing = routing;
  ffn.moe.n_ff_exp = n_ff_exp;
  ffn.moe.n_ff_shared = n_ff_shared;
  ffn.moe.shared_gate = n_ff_shared > 0;
  ModelConfig c;
  c.common = common;
  LayerRecipe layer = archs::gqa_layer(gqa, rope, QkNorm::kNone, ffn);
  layer.attn.qkv_bias = true;
  c.layers.assign(static_cast<size_t>(common.n_layer), layer);
  return c;
}

}  // namespace

extern const ArchSpec kQwen2MoeSpec{"qwen2moe", "Qwen1.5-MoE, Qwen2-MoE", load_qwen2moe};

}  // namespace sy::model
