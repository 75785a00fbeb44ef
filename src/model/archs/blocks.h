// Metadata readers shared by the architecture specs: the keys every family spells the same way.
#pragma once

#include "model/hparams.h"
#include "model/metadata.h"

// Unwraps a Result into `var` or returns its error from the enclosing function.
#define SY_TRY_ASSIGN(var, expr)                                  \
  auto var##_result = (expr);                                     \
  if (!var##_result) return tl::unexpected(var##_result.error()); \
  auto var = std::move(*var##_result)

namespace sy::model::archs {

// An error naming the key and the file unless lo <= value <= hi.
Status check_range(const Metadata& meta, std::string_view key, int64_t value, int64_t lo, int64_t hi);

// embedding_length, block_count, context_length, layer_norm_rms_epsilon, vocabulary size.
Result<CommonHparams> load_common(const Metadata& meta);

// head_count, head_count_kv (default head_count), key_length / value_length (default n_embd / n_head).
Result<GqaDims> load_gqa(const Metadata& meta, const CommonHparams& common);

// rope.freq_base, rope.dimension_count (default n_rot_default), rope.scaling.* (none / linear / yarn).
Result<RopeConfig> load_rope(const Metadata& meta, RopeLayout layout, int64_t n_rot_default);

// expert_count, expert_used_count.
Result<moe::RoutingConfig> load_routing_counts(const Metadata& meta, moe::Gating gating, bool norm_weights);

// A layer recipe with plain GQA attention (1/sqrt(head_dim) scale) and the given FFN.
LayerRecipe gqa_layer(const GqaDims& gqa, const RopeConfig& rope, QkNorm qk_norm, const FfnRecipe& ffn);

}  // namespace sy::model::archs
