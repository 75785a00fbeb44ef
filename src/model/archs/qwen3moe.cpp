// qwen3moe (Qwen3-MoE) and qwen3 (dense Qwen3): per-head q/k RMSNorm before NEOX RoPE; MoE layers route by
// softmax → top-k and always renormalise the k weights (llama.cpp hard-codes it for this family).
#include "model/arch_spec.h"
#include "model/archs/blocks.h"

namespace sy::model {
namespace {

Result<ModelConfig> load_qwen3(const Metadata& meta, bool moe) {
  SY_TRY_ASSIGN(common, archs::load_common(meta));
  SY_TRY_ASSIGN(gqa, archs::load_gqa(meta, common));
  SY_TRY_ASSIGN(rope, archs::load_rope(meta, RopeLayout::kNeox, gqa.head_dim_k));
  FfnRecipe ffn;
  if (moe) {
    SY_TRY_ASSIGN(routing, archs::load_routing_counts(meta, moe::Gating::kSoftmax, /*norm_weights=*/true));
    SY_TRY_ASSIGN(n_ff_exp, meta.u32("expert_feed_forward_length"));
    ffn.kind = FfnKind::kMoe;
    ffn.moe.routing = routing;
    ffn.moe.n_ff_exp = n_ff_exp;
  } else {
    SY_TRY_ASSIGN(n_ff, meta.u32("feed_forward_length"));
    ffn.kind = FfnKind::kDense;
    ffn.n_ff = n_ff;
  }
  ModelConfig c;
  c.common = common;
  c.common.output_optional = true;
  c.layers.assign(static_cast<size_t>(common.n_layer), archs::gqa_layer(gqa, rope, QkNorm::kPerHead, ffn));
  return c;
}

Result<ModelConfig> load_qwen3moe(const Metadata& meta) { return load_qwen3(meta, true); }
Result<ModelConfig> load_qwen3_dense(const Metadata& meta) { return load_qwen3(meta, false); }

}  // namespace

extern const ArchSpec kQwen3MoeSpec{"qwen3moe", "Qwen3-MoE (30B-A3B, 235B-A22B)", load_qwen3moe};
extern const ArchSpec kQwen3Spec{"qwen3", "Qwen3 dense", load_qwen3_dense};

}  // namespace sy::model
