// olmoe (OLMoE): q/k RMSNorm over the whole projected q / k vectors (before the head split), NEOX RoPE,
// softmax → top-k without renormalisation, no shared expert. feed_forward_length is the expert width.
#include "model/arch_spec.h"
#include "model/archs/blocks.h"

namespace sy::model {
namespace {

Result<ModelConfig> load_olmoe(const Metadata& meta) {
  SY_TRY_ASSIGN(common, archs::load_common(meta));
  SY_TRY_ASSIGN(gqa, archs::load_gqa(meta, common));
  SY_TRY_ASSIGN(rope, archs::load_rope(meta, RopeLayout::kNeox, gqa.head_dim_k));
  SY_TRY_ASSIGN(routing, archs::load_routing_counts(meta, moe::Gating::kSoftmax, /*norm_weights=*/false));
  SY_TRY_ASSIGN(n_ff, meta.u32("feed_forward_length"));
  SY_TRY_ASSIGN(n_ff_exp, meta.u32_or("expert_feed_forward_length", n_ff));
  FfnRecipe ffn{.kind = FfnKind::kMoe, .act = Activation::kSilu, .n_ff = 0, .moe = {}};
  ffn.moe.routing = routing;
  ffn.moe.n_ff_exp = n_ff_exp;
  ModelConfig c;
  c.common = common;
  c.layers.assign(static_cast<size_t>(common.n_layer), archs::gqa_layer(gqa, rope, QkNorm::kWholeVector, ffn));
  return c;
}

}  // namespace

extern const ArchSpec kOlmoeSpec{"olmoe", "OLMoE", load_olmoe};

}  // namespace sy::model
