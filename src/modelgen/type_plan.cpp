#include "modelgen/type_plan.h"

#include <algorithm>
#include <cctype>

namespace sy::modelgen {
namespace {

using model::Role;

struct SchemeEntry {
  const char* name;
  SchemeKind kind;
  TensorType base;
  uint32_t file_type;
};

// llama_ftype values: MOSTLY_* as llama.h numbers them.
constexpr SchemeEntry kSchemes[] = {
    {"f32", SchemeKind::kUniform, TensorType::kF32, 0},          {"f16", SchemeKind::kUniform, TensorType::kF16, 1},
    {"bf16", SchemeKind::kUniform, TensorType::kBF16, 32},       {"q8_0", SchemeKind::kUniform, TensorType::kQ8_0, 7},
    {"q4_0", SchemeKind::kUniform, TensorType::kQ4_0, 2},        {"q4_1", SchemeKind::kUniform, TensorType::kQ4_1, 3},
    {"q5_0", SchemeKind::kUniform, TensorType::kQ5_0, 8},        {"q5_1", SchemeKind::kUniform, TensorType::kQ5_1, 9},
    {"q2_k", SchemeKind::kUniform, TensorType::kQ2_K, 10},       {"q3_k", SchemeKind::kUniform, TensorType::kQ3_K, 11},
    {"q4_k", SchemeKind::kUniform, TensorType::kQ4_K, 14},       {"q5_k", SchemeKind::kUniform, TensorType::kQ5_K, 16},
    {"q6_k", SchemeKind::kUniform, TensorType::kQ6_K, 18},       {"q4_k_m", SchemeKind::kQ4KM, TensorType::kQ4_K, 15},
    {"mxfp4_moe", SchemeKind::kMxfp4Moe, TensorType::kQ8_0, 38},
};

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third layer between.
bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

bool is_k_quant(TensorType t) {
  return t == TensorType::kQ2_K || t == TensorType::kQ3_K || t == TensorType::kQ4_K || t == TensorType::kQ5_K ||
         t == TensorType::kQ6_K;
}

TensorType with_fallback(TensorType t, int64_t ne0) {
  if (is_k_quant(t) && ne0 % 256 != 0) {
    switch (t) {
      case TensorType::kQ4_K: t = TensorType::kQ5_0; break;
      case TensorType::kQ5_K: t = TensorType::kQ5_1; break;
      case TensorType::kQ6_K: t = TensorType::kQ8_0; break;
      default: t = TensorType::kQ4_0; break;
    }
  }
  if (ne0 % traits(t).block_elems != 0) t = TensorType::kF16;
  return t;
}

bool is_ffn_down(Role r) { return r == Role::kFfnDown || r == Role::kExpDown || r == Role::kShDown; }

}  // namespace

Result<QuantScheme> parse_scheme(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const SchemeEntry& e : kSchemes)
    if (lower == e.name) return QuantScheme{lower, e.kind, e.base, e.file_type};
  return fail(ErrorCode::kInvalidInput, "unknown tensor type '{}' (choose one of: {})", name, scheme_names());
}

std::string scheme_names() {
  std::string out;
  for (const SchemeEntry& e : kSchemes) out += (out.empty() ? "" : ", ") + std::string(e.name);
  return out;
}

std::vector<TensorType> plan_types(const QuantScheme& scheme, const model::ModelConfig& config,
                                   std::span<const model::TensorSpec> table) {
  int32_t n_expert = 0;  // of the first MoE layer; llama.cpp keys its 8-expert rules on hparams.n_expert
  for (const auto& l : config.layers)
    if (l.ffn.kind == model::FfnKind::kMoe) {
      n_expert = l.ffn.moe.routing.n_expert;
      break;
    }
  const int64_t n_layer = static_cast<int64_t>(config.layers.size());
  int64_t n_attn_v = 0;
  for (const auto& s : table) n_attn_v += s.role == Role::kAttnV;
  int64_t i_attn_v = 0;

  std::vector<TensorType> out;
  out.reserve(table.size());
  for (const model::TensorSpec& s : table) {
    if (s.n_dims == 1 || s.types == model::TypeClass::kF32Only || s.role == Role::kRouter) {
      out.push_back(TensorType::kF32);
      continue;
    }
    TensorType t = scheme.base;
    if (scheme.kind == SchemeKind::kMxfp4Moe && s.placement == model::Placement::kRoutedExpert) t = TensorType::kMXFP4;
    if (scheme.kind == SchemeKind::kQ4KM) {
      if (s.role == Role::kOutput) {
        t = TensorType::kQ6_K;
      } else if (s.role == Role::kAttnV) {
        if (use_more_bits(i_attn_v, n_attn_v)) t = TensorType::kQ6_K;
        if (n_expert == 8) t = TensorType::kQ8_0;
        ++i_attn_v;
      } else if (s.role == Role::kAttnK) {
        if (n_expert == 8) t = TensorType::kQ8_0;
      } else if (s.role == Role::kAttnOut) {
        if (n_expert == 8) t = TensorType::kQ5_K;
      } else if (is_ffn_down(s.role)) {
        // MoE models: llama.cpp takes the layer from the name (experts are not counted one by one).
        if (use_more_bits(s.layer, n_layer)) t = TensorType::kQ6_K;
      }
    }
    out.push_back(with_fallback(t, s.shape[0]));
  }
  return out;
}

}  // namespace sy::modelgen
