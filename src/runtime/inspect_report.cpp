#include "runtime/inspect_report.h"

#include <algorithm>
#include <unordered_map>

#include "model/accounting.h"
#include "model/arch_spec.h"
#include "model/tensor_table.h"

namespace sy::runtime {
namespace {

using json = nlohmann::ordered_json;

json value_json(const gguf::Value& v, size_t max_items) {
  if (const gguf::Array* arr = v.as_array()) {
    json head = json::array();
    for (size_t i = 0; i < arr->size() && i < max_items; ++i) head.push_back(value_json(arr->at(i), 0));
    return {{"elem_type", gguf::value_type_name(arr->elem_type())}, {"count", arr->size()}, {"head", head}};
  }
  if (const std::string* s = v.as_string()) return *s;
  return std::visit(
      [](const auto& x) -> json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, gguf::Array>)
          return nullptr;
        else
          return x;
      },
      v.data);
}

json optional_id(const gguf::File& file, const char* key) {
  const gguf::Value* v = file.find(key);
  if (v == nullptr || !v->as_int()) return nullptr;
  return *v->as_int();
}

json tokenizer_json(const gguf::File& file) {
  const gguf::Value* model = file.find("tokenizer.ggml.model");
  if (model == nullptr) return nullptr;
  auto str = [&](const char* key) -> json {
    const gguf::Value* v = file.find(key);
    return v != nullptr && v->as_string() ? json(*v->as_string()) : json(nullptr);
  };
  auto count = [&](const char* key) -> json {
    const gguf::Value* v = file.find(key);
    return v != nullptr && v->as_array() ? json(v->as_array()->size()) : json(nullptr);
  };
  auto flag = [&](const char* key) -> json {
    const gguf::Value* v = file.find(key);
    return v != nullptr && v->as_bool() ? json(*v->as_bool()) : json(nullptr);
  };
  const gguf::Value* tmpl = file.find("tokenizer.chat_template");
  const std::string* tmpl_text = tmpl != nullptr ? tmpl->as_string() : nullptr;
  return {{"model", str("tokenizer.ggml.model")},
          {"pre", str("tokenizer.ggml.pre")},
          {"n_vocab", count("tokenizer.ggml.tokens")},
          {"n_merges", count("tokenizer.ggml.merges")},
          {"bos_id", optional_id(file, "tokenizer.ggml.bos_token_id")},
          {"eos_id", optional_id(file, "tokenizer.ggml.eos_token_id")},
          {"eot_id", optional_id(file, "tokenizer.ggml.eot_token_id")},
          {"unknown_id", optional_id(file, "tokenizer.ggml.unknown_token_id")},
          {"padding_id", optional_id(file, "tokenizer.ggml.padding_token_id")},
          {"add_bos", flag("tokenizer.ggml.add_bos_token")},
          {"add_eos", flag("tokenizer.ggml.add_eos_token")},
          {"chat_template", tmpl_text != nullptr},
          {"chat_template_bytes", tmpl_text != nullptr ? json(tmpl_text->size()) : json(nullptr)}};
}

const char* gating_name(moe::Gating g) {
  switch (g) {
    case moe::Gating::kSoftmax: return "softmax";
    case moe::Gating::kSigmoid: return "sigmoid";
    case moe::Gating::kSoftmaxSelected: return "softmax_over_selected";
  }
  return "?";
}

json attention_json(const model::AttentionRecipe& a) {
  json j;
  if (a.kind == model::AttentionKind::kGqa) {
    j = {{"kind", "gqa"},
         {"n_head", a.gqa.n_head},
         {"n_head_kv", a.gqa.n_head_kv},
         {"head_dim_k", a.gqa.head_dim_k},
         {"head_dim_v", a.gqa.head_dim_v}};
  } else {
    j = {{"kind", "mla"},
         {"n_head", a.mla.n_head},
         {"q_lora_rank", a.mla.q_lora_rank},
         {"kv_lora_rank", a.mla.kv_lora_rank},
         {"qk_nope_head_dim", a.mla.qk_nope},
         {"qk_rope_head_dim", a.mla.qk_rope},
         {"v_head_dim", a.mla.v_head}};
  }
  const char* qk_norm = a.qk_norm == model::QkNorm::kPerHead       ? "per_head"
                        : a.qk_norm == model::QkNorm::kWholeVector ? "whole_vector"
                                                                   : "none";
  j["qk_norm"] = qk_norm;
  j["qkv_bias"] = a.qkv_bias;
  j["output_bias"] = a.out_bias;
  j["sinks"] = a.sinks;
  j["kq_scale"] = a.kq_scale;
  j["rope"] = {{"layout", a.rope.layout == model::RopeLayout::kNeox ? "neox" : "norm"},
               {"n_rot", a.rope.n_rot},
               {"freq_base", a.rope.freq_base},
               {"freq_scale", a.rope.freq_scale},
               {"yarn", a.rope.ext_factor != 0.0f},
               {"n_ctx_orig", a.rope.n_ctx_orig}};
  return j;
}

json hparams_json(const model::ModelConfig& c) {
  json sliding = json::array();
  json ffn_kinds = json::array();
  int64_t dense_ff = 0;
  for (const model::LayerRecipe& l : c.layers) {
    sliding.push_back(l.attn.sliding_window);
    ffn_kinds.push_back(l.ffn.kind == model::FfnKind::kMoe ? "moe" : "dense");
    if (l.ffn.kind == model::FfnKind::kDense) dense_ff = l.ffn.n_ff;
  }
  const bool oai = !c.layers.empty() && c.layers[0].ffn.act == model::Activation::kSwigluOai;
  return {{"n_vocab", c.common.n_vocab},
          {"n_embd", c.common.n_embd},
          {"n_layer", c.common.n_layer},
          {"n_ctx_train", c.common.n_ctx_train},
          {"rms_eps", c.common.rms_eps},
          {"tied_output_allowed", c.common.output_optional},
          {"attention", c.layers.empty() ? json(nullptr) : attention_json(c.layers[0].attn)},
          {"sliding_window_per_layer", sliding},
          {"ffn_per_layer", ffn_kinds},
          {"dense_ff", dense_ff > 0 ? json(dense_ff) : json(nullptr)},
          {"activation", oai ? "swiglu_oai" : "silu"}};
}

json routing_json(const gguf::File& file, const model::ModelConfig& c) {
  const model::MoeRecipe* first = nullptr;
  int64_t n_moe = 0, leading_dense = 0;
  for (const model::LayerRecipe& l : c.layers) {
    if (l.ffn.kind == model::FfnKind::kMoe) {
      if (first == nullptr) first = &l.ffn.moe;
      ++n_moe;
    } else if (first == nullptr) {
      ++leading_dense;
    }
  }
  if (first == nullptr) return nullptr;
  const moe::RoutingConfig& r = first->routing;
  int64_t n_shared = 0;
  if (first->n_ff_shared > 0) {
    const gguf::Value* v = file.find(c.common.arch + ".expert_shared_count");
    n_shared = v != nullptr && v->as_int() ? *v->as_int() : 1;
  }
  return {{"n_moe_layers", n_moe},
          {"leading_dense_layers", leading_dense},
          {"n_expert", r.n_expert},
          {"n_expert_used", r.n_used},
          {"expert_ff", first->n_ff_exp},
          {"n_shared_experts", n_shared},
          {"shared_expert_ff", first->n_ff_shared},
          {"shared_expert_gate", first->shared_gate},
          {"gating", gating_name(r.gating)},
          {"norm_weights", r.norm_weights},
          {"weight_scale", r.weight_scale},
          {"n_group", r.n_group},
          {"n_group_used", r.n_group_used},
          {"selection_bias", first->selection_bias},
          {"router_bias", first->router_bias},
          {"expert_bias", first->expert_bias}};
}

// KV-cache bytes one token adds in each layer, with an F16 cache; sliding-window layers stop growing at
// their window.
struct KvCost {
  int64_t full_layers_bytes = 0;                      // per token, layers that keep every token
  std::vector<std::pair<int64_t, int64_t>> windowed;  // (bytes per token, window)
};

KvCost kv_cost(const model::ModelConfig& c) {
  KvCost k;
  for (const model::LayerRecipe& l : c.layers) {
    const model::AttentionRecipe& a = l.attn;
    const int64_t elems = a.kind == model::AttentionKind::kGqa
                              ? a.gqa.n_head_kv * (a.gqa.head_dim_k + a.gqa.head_dim_v)
                              : a.mla.kv_lora_rank + a.mla.qk_rope;  // absorbed MLA caches [c | k_rope]
    if (a.sliding_window > 0)
      k.windowed.emplace_back(elems * 2, a.sliding_window);
    else
      k.full_layers_bytes += elems * 2;
  }
  return k;
}

json by_placement(const auto& values) {
  json j = json::object();
  for (size_t p = 0; p < model::kPlacementCount; ++p)
    j[std::string(model::placement_name(static_cast<model::Placement>(p)))] = values[p];
  return j;
}

}  // namespace

json inspect_report(const gguf::File& file, const InspectSettings& settings) {
  json report;
  json notes = json::array();
  report["schema_version"] = kInspectSchemaVersion;
  report["file"] = {
      {"path", file.source()},         {"size_bytes", file.file_size()},       {"gguf_version", file.version()},
      {"alignment", file.alignment()}, {"n_metadata", file.metadata().size()}, {"n_tensors", file.tensors().size()}};
  auto arch = model::architecture_of(file);
  report["architecture"] = arch ? json(*arch) : json(nullptr);
  const gguf::Value* name = file.find("general.name");
  report["name"] = name != nullptr && name->as_string() ? json(*name->as_string()) : json(nullptr);
  const gguf::Value* ftype = file.find("general.file_type");
  report["file_type"] = ftype != nullptr && ftype->as_int() ? json(*ftype->as_int()) : json(nullptr);

  std::optional<model::ModelConfig> config;
  if (!arch) {
    notes.push_back(arch.error().message);
  } else if (auto c = model::load_config(file); c) {
    config = std::move(*c);
  } else {
    notes.push_back(c.error().message + "; showing metadata and tensors only");
  }
  report["supported"] = config.has_value();
  report["hparams"] = config ? hparams_json(*config) : json(nullptr);
  report["routing"] = config ? routing_json(file, *config) : json(nullptr);
  report["tokenizer"] = tokenizer_json(file);

  json meta = json::array();
  for (const auto& [key, value] : file.metadata())
    meta.push_back({{"key", key}, {"type", gguf::value_type_name(value.type())}, {"value", value_json(value, 8)}});
  report["metadata"] = meta;

  // Placement comes from the spec's table; tensors it does not list are counted but unplaced.
  std::unordered_map<std::string, const model::TensorSpec*> by_name;
  std::vector<model::TensorSpec> table;
  if (config) {
    table = model::tensor_table(*config);
    for (const model::TensorSpec& s : table) by_name.emplace(s.name, &s);
  }
  json tensors = json::array();
  std::vector<model::TensorCost> costs;
  int64_t total_params = 0, unplaced_params = 0;
  uint64_t total_bytes = 0, unplaced_bytes = 0;
  size_t n_unplaced = 0;
  for (const gguf::TensorInfo& t : file.tensors()) {
    const auto it = by_name.find(t.name);
    const model::TensorSpec* spec = it != by_name.end() ? it->second : nullptr;
    json shape = json::array();
    for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
    tensors.push_back({{"name", t.name},
                       {"type", type_name(t.type)},
                       {"shape", shape},
                       {"n_elements", t.n_elements()},
                       {"bytes", t.n_bytes},
                       {"placement", spec ? json(model::placement_name(spec->placement)) : json(nullptr)},
                       {"layer", spec && spec->layer >= 0 ? json(spec->layer) : json(nullptr)}});
    total_params += t.n_elements();
    total_bytes += t.n_bytes;
    if (spec == nullptr) {
      ++n_unplaced;
      unplaced_params += t.n_elements();
      unplaced_bytes += t.n_bytes;
      continue;
    }
    costs.push_back({.placement = spec->placement,
                     .layer = spec->layer,
                     .n_elements = t.n_elements(),
                     .n_bytes = t.n_bytes,
                     .rows = t.ne[1] * t.ne[2] * t.ne[3]});
  }
  report["tensors"] = tensors;
  if (file.tensors().empty()) notes.push_back("no tensors: a vocabulary-only or metadata-only file");
  if (config && !file.tensors().empty()) {
    size_t missing = 0;
    std::string first;
    for (const model::TensorSpec& s : table) {
      if (!s.required || file.find_tensor(s.name) != nullptr) continue;
      if (missing++ == 0) first = s.name;
    }
    if (missing > 0)
      notes.push_back(
          fmt::format("{} tensors the {} spec requires are missing (first: {}): switchyard cannot run "
                      "this file",
                      missing, *arch, first));
  }
  if (config && n_unplaced > 0)
    notes.push_back(
        fmt::format("{} tensors are not in the {} tensor table; counted as always active", n_unplaced, *arch));

  if (!config) {
    report["params"] = {{"total", total_params},
                        {"active_per_token", nullptr},
                        {"active_per_token_excl_embedding", nullptr},
                        {"by_placement", nullptr}};
    report["bytes"] = {{"total", total_bytes},           {"routed_experts", nullptr},   {"shared_experts", nullptr},
                       {"non_expert", nullptr},          {"active_per_token", nullptr}, {"by_placement", nullptr},
                       {"per_expert_per_layer", nullptr}};
    report["memory"] = {{"weights_bytes", total_bytes}, {"kv_cache_type", nullptr},  {"kv_bytes_per_token", nullptr},
                        {"context", nullptr},           {"kv_cache_bytes", nullptr}, {"total_bytes", nullptr}};
    report["notes"] = notes;
    return report;
  }

  const model::Accounting a = model::account(*config, costs);
  const double active = a.active_params + static_cast<double>(unplaced_params);
  report["params"] = {
      {"total", total_params},
      {"active_per_token", static_cast<int64_t>(active + 0.5)},
      {"active_per_token_excl_embedding",
       static_cast<int64_t>(active - static_cast<double>(a.params_of(model::Placement::kEmbedding)) + 0.5)},
      {"by_placement", by_placement(a.params)}};
  json per_expert = json::array();
  for (const model::ExpertLayerCost& e : a.expert_layers)
    per_expert.push_back({{"layer", e.layer},
                          {"n_expert", e.n_expert},
                          {"n_used", e.n_used},
                          {"params", e.params_per_expert},
                          {"bytes", e.bytes_per_expert}});
  const uint64_t routed = a.bytes_of(model::Placement::kRoutedExpert),
                 shared = a.bytes_of(model::Placement::kSharedExpert);
  report["bytes"] = {
      {"total", total_bytes},
      {"routed_experts", routed},
      {"shared_experts", shared},
      {"non_expert", total_bytes - routed - shared},
      {"active_per_token", static_cast<uint64_t>(a.active_bytes + static_cast<double>(unplaced_bytes) + 0.5)},
      {"by_placement", by_placement(a.bytes)},
      {"per_expert_per_layer", per_expert}};

  const KvCost kv = kv_cost(*config);
  const int64_t ctx = std::max<int64_t>(1, settings.context);
  int64_t kv_bytes = kv.full_layers_bytes * ctx;
  int64_t kv_per_token = kv.full_layers_bytes;
  for (const auto& [bytes, window] : kv.windowed) {
    kv_bytes += bytes * std::min(ctx, window);
    kv_per_token += bytes;
  }
  report["memory"] = {
      {"weights_bytes", total_bytes},       {"kv_cache_type", "f16"},
      {"kv_bytes_per_token", kv_per_token}, {"context", ctx},
      {"kv_cache_bytes", kv_bytes},         {"total_bytes", total_bytes + static_cast<uint64_t>(kv_bytes)}};
  notes.push_back("memory excludes activations and scratch buffers (small next to the weights)");
  report["notes"] = notes;
  return report;
}

Result<nlohmann::ordered_json> inspect_file(const std::string& path, const InspectSettings& settings) {
  auto file = gguf::File::open(path);
  if (!file) return tl::unexpected(file.error());
  return inspect_report(*file, settings);
}

}  // namespace sy::runtime
