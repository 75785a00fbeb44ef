// The list of supported architectures. An explicit list, not static self-registration: objects in a static
// library that nothing references would be dropped by the linker.
#include <array>
#include <cmath>

#include "model/arch_spec.h"
#include "model/hparam_limits.h"

namespace sy::model {

extern const ArchSpec kQwen3MoeSpec;
extern const ArchSpec kQwen3Spec;
extern const ArchSpec kOlmoeSpec;
extern const ArchSpec kLlamaSpec;
extern const ArchSpec kQwen2MoeSpec;
extern const ArchSpec kDeepseek2Spec;
extern const ArchSpec kGptOssSpec;

namespace {

constexpr std::array<const ArchSpec*, 7> kSpecs = {&kQwen3MoeSpec, &kQwen3Spec,     &kOlmoeSpec, &kLlamaSpec,
                                                   &kQwen2MoeSpec, &kDeepseek2Spec, &kGptOssSpec};

Status validate(const ModelConfig& c, const std::string& source) {
  auto bad = [&](std::string_view what, int64_t v) {
    return fail(ErrorCode::kInvalidInput, "{}: {} = {} is out of range", source, what, v);
  };
  auto dim_ok = [](int64_t v) { return v > 0 && v <= kMaxDim; };
  // block_count, embedding_length, context_length and the vocabulary size were bounded by load_common.
  if (!(c.common.rms_eps > 0) || !std::isfinite(c.common.rms_eps))
    return fail(ErrorCode::kInvalidInput, "{}: layer_norm_rms_epsilon must be positive", source);
  for (const LayerRecipe& l : c.layers) {
    const AttentionRecipe& a = l.attn;
    if (a.kind == AttentionKind::kGqa) {
      const GqaDims& g = a.gqa;
      if (!dim_ok(g.n_head)) return bad("attention.head_count", g.n_head);
      if (!dim_ok(g.n_head_kv) || g.n_head % g.n_head_kv != 0) return bad("attention.head_count_kv", g.n_head_kv);
      if (!dim_ok(g.head_dim_k)) return bad("attention.key_length", g.head_dim_k);
      if (!dim_ok(g.head_dim_v)) return bad("attention.value_length", g.head_dim_v);
      if (a.rope.n_rot < 0 || a.rope.n_rot > g.head_dim_k || a.rope.n_rot % 2 != 0)
        return bad("rope.dimension_count", a.rope.n_rot);
    } else {
      const MlaDims& m = a.mla;
      if (!dim_ok(m.n_head)) return bad("attention.head_count", m.n_head);
      if (m.q_lora_rank < 0 || m.q_lora_rank > kMaxDim) return bad("attention.q_lora_rank", m.q_lora_rank);
      if (!dim_ok(m.kv_lora_rank)) return bad("attention.kv_lora_rank", m.kv_lora_rank);
      if (!dim_ok(m.qk_nope)) return bad("qk_nope (key_length_mla - rope.dimension_count)", m.qk_nope);
      if (!dim_ok(m.qk_rope) || m.qk_rope % 2 != 0) return bad("rope.dimension_count", m.qk_rope);
      if (!dim_ok(m.v_head)) return bad("attention.value_length_mla", m.v_head);
    }
    if (!std::isfinite(a.rope.freq_base) || a.rope.freq_base <= 0 || !std::isfinite(a.rope.freq_scale) ||
        a.rope.freq_scale <= 0)
      return fail(ErrorCode::kInvalidInput, "{}: RoPE base and scaling factor must be positive", source);
    const FfnRecipe& f = l.ffn;
    if (f.kind == FfnKind::kDense) {
      if (!dim_ok(f.n_ff)) return bad("feed_forward_length", f.n_ff);
    } else {
      const moe::RoutingConfig& r = f.moe.routing;
      if (r.n_expert <= 0 || r.n_expert > kMaxExperts) return bad("expert_count", r.n_expert);
      if (r.n_used <= 0 || r.n_used > r.n_expert) return bad("expert_used_count", r.n_used);
      if (!dim_ok(f.moe.n_ff_exp)) return bad("expert_feed_forward_length", f.moe.n_ff_exp);
      if (f.moe.n_ff_shared < 0 || f.moe.n_ff_shared > kMaxDim) return bad("shared expert width", f.moe.n_ff_shared);
      if (r.n_group > 1) {
        if (r.n_expert % r.n_group != 0) return bad("expert_group_count", r.n_group);
        if (r.n_group_used <= 0 || r.n_group_used > r.n_group) return bad("expert_group_used_count", r.n_group_used);
        if (r.n_expert / r.n_group < 2) return bad("expert_group_count (needs >= 2 experts per group)", r.n_group);
        if (static_cast<int64_t>(r.n_group_used) * (r.n_expert / r.n_group) < r.n_used)
          return bad("expert_group_used_count (fewer experts than expert_used_count)", r.n_group_used);
      }
    }
  }
  return {};
}

}  // namespace

const ArchSpec* find_arch(std::string_view arch) {
  for (const ArchSpec* s : kSpecs)
    if (s->arch == arch) return s;
  return nullptr;
}

std::span<const ArchSpec* const> all_archs() { return kSpecs; }

namespace {

Result<ModelConfig> load_with_spec(const Metadata& meta) {
  const ArchSpec* spec = find_arch(meta.arch());
  if (spec == nullptr) {
    std::string known;
    for (const ArchSpec* s : kSpecs) known += (known.empty() ? "" : ", ") + std::string(s->arch);
    return fail(ErrorCode::kUnsupported, "{}: architecture '{}' is not supported (supported: {})", meta.source(),
                meta.arch(), known);
  }
  auto config = spec->load(meta);
  if (!config) return config;
  config->common.arch = meta.arch();
  if (auto ok = validate(*config, meta.source()); !ok) return tl::unexpected(ok.error());
  return config;
}

}  // namespace

Result<ModelConfig> load_config(const gguf::File& file) {
  auto arch = architecture_of(file);
  if (!arch) return tl::unexpected(arch.error());
  return load_with_spec(Metadata(file, *arch));
}

Result<ModelConfig> load_config(const MetadataMap& map) {
  const gguf::Value* v = map.find("general.architecture");
  const std::string* arch = v != nullptr ? v->as_string() : nullptr;
  if (arch == nullptr) return fail(ErrorCode::kNotFound, "{}: no string general.architecture", map.source);
  return load_with_spec(Metadata(map, *arch));
}

}  // namespace sy::model
