#include "modelgen/presets.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "modelgen/synthetic_vocab.h"

namespace sy::modelgen {
namespace {

// Writes "<arch>.<key>" entries.
struct Keys {
  model::MetadataMap& map;
  std::string_view arch;
  void u32(std::string_view key, uint32_t v) const { map.set(fmt::format("{}.{}", arch, key), v); }
  void f32(std::string_view key, float v) const { map.set(fmt::format("{}.{}", arch, key), v); }
  void flag(std::string_view key, bool v) const { map.set(fmt::format("{}.{}", arch, key), v); }
  void str(std::string_view key, std::string_view v) const { map.set(fmt::format("{}.{}", arch, key), std::string(v)); }
  // The keys every GQA family shares.
  void gqa(uint32_t ctx, uint32_t embd, uint32_t blocks, uint32_t ff, uint32_t heads, uint32_t heads_kv,
           float rope_base, float eps) const {
    u32("context_length", ctx);
    u32("embedding_length", embd);
    u32("block_count", blocks);
    u32("feed_forward_length", ff);
    u32("attention.head_count", heads);
    u32("attention.head_count_kv", heads_kv);
    f32("rope.freq_base", rope_base);
    f32("attention.layer_norm_rms_epsilon", eps);
  }
  void experts(uint32_t n, uint32_t used) const {
    u32("expert_count", n);
    u32("expert_used_count", used);
  }
};

// allenai/OLMoE-1B-7B-0924: 16 layers, d 2048, 16 heads, 64 experts of width 1024, top-8, no renorm.
void olmoe_1b_7b(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.gqa(4096, 2048, 16, 1024, 16, 16, 10000.0f, 1e-5f);
  k.experts(64, 8);
}

// Qwen/Qwen3-30B-A3B: 48 layers, d 2048, 32/4 heads x 128, 128 experts of width 768, top-8.
void qwen3_30b_a3b(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.gqa(40960, 2048, 48, 6144, 32, 4, 1000000.0f, 1e-6f);
  k.experts(128, 8);
  k.u32("attention.key_length", 128);
  k.u32("attention.value_length", 128);
  k.u32("expert_feed_forward_length", 768);
}

// mistralai/Mixtral-8x7B-v0.1: 32 layers, d 4096, 32/8 heads, 8 experts of width 14336, top-2.
void mixtral_8x7b(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.u32("vocab_size", 32000);
  k.gqa(32768, 4096, 32, 14336, 32, 8, 1000000.0f, 1e-5f);
  k.u32("rope.dimension_count", 128);
  k.experts(8, 2);
}

// DeepSeek MLA keys in the split (absorbed) layout of current converters.
void mla_keys(const Keys& k, uint32_t q_lora, uint32_t kv_lora, uint32_t nope, uint32_t rope, uint32_t v,
              bool write_q_lora) {
  if (write_q_lora) k.u32("attention.q_lora_rank", q_lora);
  k.u32("attention.kv_lora_rank", kv_lora);
  k.u32("attention.key_length", kv_lora + rope);
  k.u32("attention.value_length", kv_lora);
  k.u32("attention.key_length_mla", nope + rope);
  k.u32("attention.value_length_mla", v);
  k.u32("rope.dimension_count", rope);
}

// deepseek-ai/DeepSeek-V2-Lite: 27 layers (the first dense, width 10944), d 2048, 16 heads, MLA kv_lora 512,
// qk 128 + 64, v 128; 64 routed experts of width 1408, top-6, plus 2 shared; softmax, no renorm; YaRN x40.
void deepseek_v2_lite(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.u32("vocab_size", 102400);
  k.gqa(163840, 2048, 27, 10944, 16, 1, 10000.0f, 1e-6f);
  k.experts(64, 6);
  k.u32("expert_gating_func", 1);
  k.u32("leading_dense_block_count", 1);
  mla_keys(k, 0, 512, 128, 64, 128, /*write_q_lora=*/false);  // real V2-Lite GGUFs omit q_lora_rank
  k.u32("expert_feed_forward_length", 1408);
  k.u32("expert_shared_count", 2);
  k.f32("expert_weights_scale", 1.0f);
  k.str("rope.scaling.type", "yarn");
  k.f32("rope.scaling.factor", 40.0f);
  k.u32("rope.scaling.original_context_length", 4096);
  k.f32("rope.scaling.yarn_log_multiplier", 0.1f * 0.707f);
}

// openai/gpt-oss-20b: 24 layers, d 2880, 64/8 heads x 64, 32 experts of width 2880, top-4, SWA 128 on even
// layers, YaRN x32.
void gpt_oss_20b(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.gqa(131072, 2880, 24, 2880, 64, 8, 150000.0f, 1e-5f);
  k.experts(32, 4);
  k.u32("attention.key_length", 64);
  k.u32("attention.value_length", 64);
  k.str("rope.scaling.type", "yarn");
  k.f32("rope.scaling.factor", 32.0f);
  k.u32("rope.scaling.original_context_length", 4096);
  k.u32("attention.sliding_window", 128);
  k.u32("expert_feed_forward_length", 2880);
}

// The conformance models' shapes (../shared/conformance/manifest.json → generator.models).
void qwen3moe_tiny(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.gqa(4096, 64, 3, 128, 4, 2, 1000000.0f, 1e-6f);
  k.experts(16, 4);
  k.u32("attention.key_length", 32);
  k.u32("attention.value_length", 32);
  k.u32("expert_feed_forward_length", 64);
}

void olmoe_tiny(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.gqa(4096, 64, 3, 64, 4, 4, 10000.0f, 1e-5f);
  k.experts(16, 4);
}

void mixtral_tiny(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.u32("vocab_size", 512);
  k.gqa(4096, 64, 3, 64, 4, 2, 1000000.0f, 1e-5f);
  k.u32("rope.dimension_count", 16);
  k.experts(8, 2);
}

void qwen2moe_tiny(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.gqa(4096, 64, 3, 128, 4, 2, 1000000.0f, 1e-6f);
  k.experts(16, 4);
  k.u32("expert_feed_forward_length", 64);
  k.u32("expert_shared_feed_forward_length", 128);
}

void deepseek2_lite_tiny(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.u32("vocab_size", 512);
  k.gqa(4096, 64, 3, 128, 4, 1, 10000.0f, 1e-6f);
  k.experts(16, 4);
  k.u32("expert_gating_func", 1);
  k.u32("leading_dense_block_count", 1);
  mla_keys(k, 0, 64, 32, 32, 32, /*write_q_lora=*/true);
  k.u32("expert_feed_forward_length", 32);
  k.u32("expert_shared_count", 2);
  k.f32("expert_weights_scale", 1.0f);
}

void deepseek3_tiny(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.u32("vocab_size", 512);
  k.gqa(163840, 64, 3, 128, 4, 1, 10000.0f, 1e-6f);
  k.experts(16, 4);
  k.u32("expert_gating_func", 2);
  k.u32("expert_group_count", 4);
  k.u32("expert_group_used_count", 2);
  k.flag("expert_weights_norm", true);
  k.f32("expert_weights_scale", 2.5f);
  k.u32("leading_dense_block_count", 1);
  mla_keys(k, 64, 64, 32, 32, 32, /*write_q_lora=*/true);
  k.u32("expert_feed_forward_length", 32);
  k.u32("expert_shared_count", 1);
  k.str("rope.scaling.type", "yarn");
  k.f32("rope.scaling.factor", 40.0f);
  k.u32("rope.scaling.original_context_length", 4096);
  k.f32("rope.scaling.yarn_beta_fast", 32.0f);
  k.f32("rope.scaling.yarn_beta_slow", 1.0f);
  k.f32("rope.scaling.yarn_log_multiplier", 0.1f);
}

void gpt_oss_tiny(model::MetadataMap& m, std::string_view a) {
  Keys k{m, a};
  k.gqa(131072, 64, 3, 64, 4, 2, 150000.0f, 1e-5f);
  k.experts(16, 4);
  k.u32("attention.key_length", 16);
  k.u32("attention.value_length", 16);
  k.str("rope.scaling.type", "yarn");
  k.f32("rope.scaling.factor", 32.0f);
  k.u32("rope.scaling.original_context_length", 4096);
  k.u32("attention.sliding_window", 16);
  k.u32("expert_feed_forward_length", 64);
}

const Preset kPresets[] = {
    {"olmoe-1b-7b", "olmoe", "allenai/OLMoE-1B-7B-0924 (6.9 B total, 1.3 B active)", 50304, olmoe_1b_7b},
    {"qwen3-30b-a3b", "qwen3moe", "Qwen/Qwen3-30B-A3B (30.5 B total, 3.3 B active)", 151936, qwen3_30b_a3b},
    {"mixtral-8x7b", "llama", "mistralai/Mixtral-8x7B-v0.1 (46.7 B total, 12.9 B active)", 32000, mixtral_8x7b},
    {"deepseek-v2-lite", "deepseek2", "deepseek-ai/DeepSeek-V2-Lite (15.7 B total; 2.4 B active without the embedding)",
     102400, deepseek_v2_lite},
    {"gpt-oss-20b", "gpt-oss", "openai/gpt-oss-20b (20.9 B total; 3.6 B active without the embedding)", 201088,
     gpt_oss_20b},
    {"qwen3moe-tiny", "qwen3moe", "conformance qwen3moe-tiny shapes (d 64, 3 layers, 16 experts)", 512, qwen3moe_tiny},
    {"olmoe-tiny", "olmoe", "conformance olmoe-tiny shapes", 512, olmoe_tiny},
    {"mixtral-tiny", "llama", "conformance mixtral-tiny shapes", 512, mixtral_tiny},
    {"qwen2moe-tiny", "qwen2moe", "conformance qwen2moe-tiny shapes (shared expert)", 512, qwen2moe_tiny},
    {"deepseek2-lite-tiny", "deepseek2", "conformance deepseek2-lite-tiny shapes (MLA, plain attn_q)", 512,
     deepseek2_lite_tiny},
    {"deepseek3-tiny", "deepseek2", "conformance deepseek3-tiny shapes (sigmoid, groups, exp_probs_b)", 512,
     deepseek3_tiny, /*selection_bias=*/true},
    {"gpt-oss-tiny", "gpt-oss", "conformance gpt-oss-tiny shapes (sinks, biases, SWA)", 512, gpt_oss_tiny},
};

Result<gguf::Value> typed_value(const std::string& key, const std::string& text, const gguf::Value* existing) {
  auto bad = [&](std::string_view want) {
    return fail(ErrorCode::kInvalidInput, "--set {}={}: expected {}", key, text, want);
  };
  auto as_int = [&]() -> std::optional<int64_t> {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return v;
  };
  auto as_float = [&]() -> std::optional<double> {
    try {
      size_t used = 0;
      double v = std::stod(text, &used);
      if (used != text.size() || !std::isfinite(v)) return std::nullopt;
      return v;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  };
  const gguf::ValueType type = existing != nullptr                   ? existing->type()
                               : as_int()                            ? gguf::ValueType::kU32
                               : as_float()                          ? gguf::ValueType::kF32
                               : (text == "true" || text == "false") ? gguf::ValueType::kBool
                                                                     : gguf::ValueType::kString;
  switch (type) {
    case gguf::ValueType::kU32: {
      auto v = as_int();
      if (!v || *v < 0 || *v > 0xffffffffLL) return bad("an unsigned 32-bit integer");
      return gguf::Value(static_cast<uint32_t>(*v));
    }
    case gguf::ValueType::kF32: {
      auto v = as_float();
      if (!v) return bad("a finite number");
      return gguf::Value(static_cast<float>(*v));
    }
    case gguf::ValueType::kBool:
      if (text != "true" && text != "false") return bad("true or false");
      return gguf::Value(text == "true");
    case gguf::ValueType::kString: return gguf::Value(text);
    default:
      return bad(fmt::format("a value of the key's type ({}), which --set cannot write", gguf::value_type_name(type)));
  }
}

// The architecture keys (without "<arch>.") that the presets of an architecture write: what --set may change.
// Sorted, for the error message.
std::vector<std::string> settable_keys(std::string_view arch) {
  std::vector<std::string> keys;
  const std::string prefix = fmt::format("{}.", arch);
  for (const Preset& p : kPresets) {
    if (p.arch != arch) continue;
    model::MetadataMap m;
    p.fill(m, p.arch);
    for (const auto& [key, value] : m.entries)
      if (key.starts_with(prefix)) keys.push_back(key.substr(prefix.size()));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace

std::span<const Preset> all_presets() { return kPresets; }

const Preset* find_preset(std::string_view name) {
  for (const Preset& p : kPresets)
    if (p.name == name) return &p;
  return nullptr;
}

Result<Override> parse_override(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return fail(ErrorCode::kInvalidInput, "--set '{}': expected KEY=VALUE", text);
  return Override{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Result<model::MetadataMap> preset_metadata(const Preset& preset, std::span<const Override> overrides, int64_t n_vocab) {
  model::MetadataMap m;
  m.source = fmt::format("preset {}", preset.name);
  m.set("general.architecture", std::string(preset.arch));
  m.set("general.name", fmt::format("switchyard gen-model {} (random weights)", preset.name));
  preset.fill(m, preset.arch);
  for (const Override& o : overrides) {
    if (o.key.starts_with("general.") || o.key.starts_with("tokenizer."))
      return fail(ErrorCode::kInvalidInput,
                  "--set {}: only architecture keys can be set (use --vocab for the "
                  "vocabulary size)",
                  o.key);
    const std::string key =
        o.key.starts_with(std::string(preset.arch) + ".") ? o.key : fmt::format("{}.{}", preset.arch, o.key);
    // A mistyped key would otherwise be written and silently ignored by the loader.
    const std::vector<std::string> settable = settable_keys(preset.arch);
    if (!std::binary_search(settable.begin(), settable.end(), key.substr(preset.arch.size() + 1)))
      return fail(ErrorCode::kInvalidInput, "--set {}: {} has no key '{}' (keys: {})", o.key, preset.arch, key,
                  fmt::join(settable, ", "));
    auto value = typed_value(key, o.value, m.find(key));
    if (!value) return tl::unexpected(value.error());
    m.set(key, std::move(*value));
  }
  // The vocabulary: --vocab wins, then an overridden <arch>.vocab_size, then the preset's.
  const std::string vocab_key = fmt::format("{}.vocab_size", preset.arch);
  if (n_vocab == 0) {
    const gguf::Value* v = m.find(vocab_key);
    n_vocab = v != nullptr && v->as_int() ? *v->as_int() : preset.n_vocab;
  }
  if (n_vocab > (1 << 24))
    return fail(ErrorCode::kInvalidInput, "{}: vocabulary size {} is too large", m.source, n_vocab);
  if (m.find(vocab_key) != nullptr) m.set(vocab_key, static_cast<uint32_t>(n_vocab));
  if (auto st = add_synthetic_vocab(m, n_vocab); !st) return tl::unexpected(st.error());

  if (preset.selection_bias) {
    const gguf::Value* blocks = m.find(fmt::format("{}.block_count", preset.arch));
    const int64_t n_layer = blocks != nullptr && blocks->as_int() ? *blocks->as_int() : 0;
    for (int64_t il = 0; il < n_layer && il < 4096; ++il)
      m.tensor_names.push_back(fmt::format("blk.{}.exp_probs_b.bias", il));
  }
  return m;
}

}  // namespace sy::modelgen
