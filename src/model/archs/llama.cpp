// llama: dense Llama and Mixtral (the same arch string, with expert_count > 0). Adjacent-pair (NORM) RoPE
// because the converter permuted the q/k rows; Mixtral renormalises its top-k softmax weights.
#include "model/arch_spec.h"
#include "model/archs/blocks.h"

namespace sy::model {
namespace {

Result<ModelConfig> load_llama(const Metadata& meta) {
  SY_TRY_ASSIGN(common, archs::load_common(meta));
  SY_TRY_ASSIGN(gqa, archs::load_gqa(meta, common));
  SY_TRY_ASSIGN(rope, archs::load_rope(meta, RopeLayout::kNorm, gqa.head_dim_k));
  SY_TRY_ASSIGN(n_ff, meta.u32("feed_forward_length"));
  SY_TRY_ASSIGN(n_expert, meta.u32_or("expert_count", 0));
  FfnRecipe ffn;
  if (n_expert > 0) {
    SY_TRY_ASSIGN(routing, archs::load_routing_counts(meta, moe::Gating::kSoftmax, /*norm_weights=*/true));
    SY_TRY_ASSIGN(n_ff_exp, meta.u32_or("expert_feed_forward_length", n_ff));
    ffn.kind = FfnKind::kMoe;
    ffn.moe.routing = routing;
    ffn.moe.n_ff_exp = n_ff_exp;
  } else {
    ffn.kind = FfnKind::kDense;
    ffn.n_ff = n_ff;
  }
  ModelConfig c;
  c.common = common;
  c.common.output_optional = true;
  c.layers.assign(static_cast<size_t>(common.n_layer), archs::gqa_layer(gqa, rope, QkNorm::kNone, ffn));
  return c;
}

}  // namespace

extern const ArchSpec kLlamaSpec{"llama", "Llama (dense) and Mixtral", load_llama};

}  // namespace sy::model
