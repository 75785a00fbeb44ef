#include "model/tensor_table.h"

#include "core/error.h"

namespace sy::model {
namespace {

using P = Placement;
using T = TypeClass;

// The one table of tensor names (kept in Role order; checked at start-up by role_info).
constexpr RoleInfo kRoles[] = {
    {Role::kTokenEmbd, "token_embd.weight", P::kEmbedding, T::kAny},
    {Role::kOutputNorm, "output_norm.weight", P::kNorm, T::kF32Only},
    {Role::kOutput, "output.weight", P::kOutput, T::kAny},
    {Role::kAttnNorm, "blk.%d.attn_norm.weight", P::kNorm, T::kF32Only},
    {Role::kAttnQ, "blk.%d.attn_q.weight", P::kAttention, T::kAny},
    {Role::kAttnQBias, "blk.%d.attn_q.bias", P::kAttention, T::kF32Only},
    {Role::kAttnK, "blk.%d.attn_k.weight", P::kAttention, T::kAny},
    {Role::kAttnKBias, "blk.%d.attn_k.bias", P::kAttention, T::kF32Only},
    {Role::kAttnV, "blk.%d.attn_v.weight", P::kAttention, T::kAny},
    {Role::kAttnVBias, "blk.%d.attn_v.bias", P::kAttention, T::kF32Only},
    {Role::kAttnOut, "blk.%d.attn_output.weight", P::kAttention, T::kAny},
    {Role::kAttnOutBias, "blk.%d.attn_output.bias", P::kAttention, T::kF32Only},
    {Role::kAttnQNorm, "blk.%d.attn_q_norm.weight", P::kNorm, T::kF32Only},
    {Role::kAttnKNorm, "blk.%d.attn_k_norm.weight", P::kNorm, T::kF32Only},
    {Role::kAttnSinks, "blk.%d.attn_sinks.weight", P::kAttention, T::kF32Only},
    {Role::kAttnQA, "blk.%d.attn_q_a.weight", P::kAttention, T::kAny},
    {Role::kAttnQANorm, "blk.%d.attn_q_a_norm.weight", P::kNorm, T::kF32Only},
    {Role::kAttnQB, "blk.%d.attn_q_b.weight", P::kAttention, T::kAny},
    {Role::kAttnKvA, "blk.%d.attn_kv_a_mqa.weight", P::kAttention, T::kAny},
    {Role::kAttnKvANorm, "blk.%d.attn_kv_a_norm.weight", P::kNorm, T::kF32Only},
    {Role::kAttnKB, "blk.%d.attn_k_b.weight", P::kAttention, T::kAny},
    {Role::kAttnVB, "blk.%d.attn_v_b.weight", P::kAttention, T::kAny},
    {Role::kFfnNorm, "blk.%d.ffn_norm.weight", P::kNorm, T::kF32Only},  // or post_attention_norm, see below
    {Role::kFfnGate, "blk.%d.ffn_gate.weight", P::kDenseFfn, T::kAny},
    {Role::kFfnUp, "blk.%d.ffn_up.weight", P::kDenseFfn, T::kAny},
    {Role::kFfnDown, "blk.%d.ffn_down.weight", P::kDenseFfn, T::kAny},
    {Role::kRouter, "blk.%d.ffn_gate_inp.weight", P::kRouter, T::kFloat},
    {Role::kRouterBias, "blk.%d.ffn_gate_inp.bias", P::kRouter, T::kF32Only},
    {Role::kSelectionBias, "blk.%d.exp_probs_b.bias", P::kRouter, T::kF32Only},
    {Role::kExpGate, "blk.%d.ffn_gate_exps.weight", P::kRoutedExpert, T::kAny},
    {Role::kExpUp, "blk.%d.ffn_up_exps.weight", P::kRoutedExpert, T::kAny},
    {Role::kExpDown, "blk.%d.ffn_down_exps.weight", P::kRoutedExpert, T::kAny},
    {Role::kExpGateBias, "blk.%d.ffn_gate_exps.bias", P::kRoutedExpert, T::kF32Only},
    {Role::kExpUpBias, "blk.%d.ffn_up_exps.bias", P::kRoutedExpert, T::kF32Only},
    {Role::kExpDownBias, "blk.%d.ffn_down_exps.bias", P::kRoutedExpert, T::kF32Only},
    {Role::kShGate, "blk.%d.ffn_gate_shexp.weight", P::kSharedExpert, T::kAny},
    {Role::kShUp, "blk.%d.ffn_up_shexp.weight", P::kSharedExpert, T::kAny},
    {Role::kShDown, "blk.%d.ffn_down_shexp.weight", P::kSharedExpert, T::kAny},
    {Role::kShGateInp, "blk.%d.ffn_gate_inp_shexp.weight", P::kSharedExpert, T::kF32Only},
};
static_assert(std::size(kRoles) == kRoleCount, "one RoleInfo per Role");

constexpr bool roles_in_order() {
  for (size_t i = 0; i < std::size(kRoles); ++i)
    if (static_cast<size_t>(kRoles[i].role) != i) return false;
  return true;
}
static_assert(roles_in_order(), "kRoles is indexed by Role");

constexpr const char* kPostAttentionNorm = "blk.%d.post_attention_norm.weight";

struct TableBuilder {
  std::vector<TensorSpec> out;

  void add(Role role, int layer, std::initializer_list<int64_t> shape, bool required = true,
           const char* pattern_override = nullptr) {
    const RoleInfo& info = role_info(role);
    TensorSpec s{.role = role,
                 .layer = layer,
                 .name = {},
                 .shape = {1, 1, 1},
                 .n_dims = 0,
                 .required = required,
                 .placement = info.placement,
                 .types = info.types};
    const char* pattern = pattern_override != nullptr ? pattern_override : info.pattern;
    s.name = pattern;
    if (layer >= 0) s.name.replace(s.name.find("%d"), 2, std::to_string(layer));
    for (int64_t d : shape) s.shape[static_cast<size_t>(s.n_dims++)] = d;
    out.push_back(std::move(s));
  }
};

void add_gqa(TableBuilder& b, int il, int64_t d, const AttentionRecipe& a) {
  const GqaDims& g = a.gqa;
  const int64_t q_dim = g.n_head * g.head_dim_k, k_dim = g.n_head_kv * g.head_dim_k, v_dim = g.n_head_kv * g.head_dim_v;
  b.add(Role::kAttnQ, il, {d, q_dim});
  b.add(Role::kAttnK, il, {d, k_dim});
  b.add(Role::kAttnV, il, {d, v_dim});
  b.add(Role::kAttnOut, il, {g.n_head * g.head_dim_v, d});
  if (a.qkv_bias) {
    b.add(Role::kAttnQBias, il, {q_dim});
    b.add(Role::kAttnKBias, il, {k_dim});
    b.add(Role::kAttnVBias, il, {v_dim});
  }
  if (a.out_bias) b.add(Role::kAttnOutBias, il, {d});
  if (a.qk_norm == QkNorm::kPerHead) {
    b.add(Role::kAttnQNorm, il, {g.head_dim_k});
    b.add(Role::kAttnKNorm, il, {g.head_dim_k});
  } else if (a.qk_norm == QkNorm::kWholeVector) {
    b.add(Role::kAttnQNorm, il, {q_dim});
    b.add(Role::kAttnKNorm, il, {k_dim});
  }
  if (a.sinks) b.add(Role::kAttnSinks, il, {g.n_head});
}

void add_mla(TableBuilder& b, int il, int64_t d, const AttentionRecipe& a) {
  const MlaDims& m = a.mla;
  const int64_t q_dim = m.n_head * (m.qk_nope + m.qk_rope);
  if (m.q_lora_rank > 0) {
    b.add(Role::kAttnQA, il, {d, m.q_lora_rank});
    b.add(Role::kAttnQANorm, il, {m.q_lora_rank});
    b.add(Role::kAttnQB, il, {m.q_lora_rank, q_dim});
  } else {
    b.add(Role::kAttnQ, il, {d, q_dim});
  }
  b.add(Role::kAttnKvA, il, {d, m.kv_lora_rank + m.qk_rope});
  b.add(Role::kAttnKvANorm, il, {m.kv_lora_rank});
  b.add(Role::kAttnKB, il, {m.qk_nope, m.kv_lora_rank, m.n_head});
  b.add(Role::kAttnVB, il, {m.kv_lora_rank, m.v_head, m.n_head});
  b.add(Role::kAttnOut, il, {m.n_head * m.v_head, d});
}

void add_ffn(TableBuilder& b, int il, int64_t d, const FfnRecipe& f) {
  if (f.kind == FfnKind::kDense) {
    b.add(Role::kFfnGate, il, {d, f.n_ff});
    b.add(Role::kFfnUp, il, {d, f.n_ff});
    b.add(Role::kFfnDown, il, {f.n_ff, d});
    return;
  }
  const MoeRecipe& m = f.moe;
  const int64_t E = m.routing.n_expert, ff = m.n_ff_exp;
  b.add(Role::kRouter, il, {d, E});
  if (m.router_bias) b.add(Role::kRouterBias, il, {E});
  if (m.selection_bias) b.add(Role::kSelectionBias, il, {E});
  b.add(Role::kExpGate, il, {d, ff, E});
  b.add(Role::kExpUp, il, {d, ff, E});
  b.add(Role::kExpDown, il, {ff, d, E});
  if (m.expert_bias) {
    b.add(Role::kExpGateBias, il, {ff, E});
    b.add(Role::kExpUpBias, il, {ff, E});
    b.add(Role::kExpDownBias, il, {d, E});
  }
  if (m.n_ff_shared > 0) {
    b.add(Role::kShGate, il, {d, m.n_ff_shared});
    b.add(Role::kShUp, il, {d, m.n_ff_shared});
    b.add(Role::kShDown, il, {m.n_ff_shared, d});
    if (m.shared_gate) b.add(Role::kShGateInp, il, {d});
  }
}

}  // namespace

const RoleInfo& role_info(Role role) {
  SY_ASSERT(static_cast<size_t>(role) < kRoleCount, "Role values come from the enum");
  return kRoles[static_cast<size_t>(role)];
}

std::string_view role_name(Role role) {
  std::string_view p = role_info(role).pattern;
  if (p.starts_with("blk.%d.")) p.remove_prefix(7);
  return p.substr(0, p.find('.'));
}

std::string_view placement_name(Placement p) {
  switch (p) {
    case Placement::kEmbedding: return "embedding";
    case Placement::kAttention: return "attention";
    case Placement::kNorm: return "norm";
    case Placement::kDenseFfn: return "dense_ffn";
    case Placement::kRouter: return "router";
    case Placement::kRoutedExpert: return "routed_expert";
    case Placement::kSharedExpert: return "shared_expert";
    case Placement::kOutput: return "output";
  }
  return "?";
}

std::vector<TensorSpec> tensor_table(const ModelConfig& config) {
  TableBuilder b;
  const int64_t d = config.common.n_embd, n_vocab = config.common.n_vocab;
  b.add(Role::kTokenEmbd, -1, {d, n_vocab});
  b.add(Role::kOutputNorm, -1, {d});
  b.add(Role::kOutput, -1, {d, n_vocab}, !config.common.output_optional);
  for (int il = 0; il < static_cast<int>(config.layers.size()); ++il) {
    const LayerRecipe& layer = config.layers[static_cast<size_t>(il)];
    b.add(Role::kAttnNorm, il, {d});
    if (layer.attn.kind == AttentionKind::kGqa)
      add_gqa(b, il, d, layer.attn);
    else
      add_mla(b, il, d, layer.attn);
    b.add(Role::kFfnNorm, il, {d}, true,
          layer.ffn_norm == FfnNormName::kPostAttentionNorm ? kPostAttentionNorm : nullptr);
    add_ffn(b, il, d, layer.ffn);
  }
  return std::move(b.out);
}

}  // namespace sy::model
