#include "model/prune.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_map>

#include "core/file_io.h"
#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "model/arch_spec.h"
#include "model/archs/blocks.h"
#include "model/tensor_table.h"
#include "moe/policies/routing_spec.h"

namespace sy::model {
namespace {

// Roles whose tensor holds one slab per routed expert along its outermost dimension.
bool per_expert(Role r) {
  switch (r) {
    case Role::kRouter:
    case Role::kRouterBias:
    case Role::kSelectionBias:
    case Role::kExpGate:
    case Role::kExpUp:
    case Role::kExpDown:
    case Role::kExpGateBias:
    case Role::kExpUpBias:
    case Role::kExpDownBias: return true;
    default: return false;
  }
}

// `n` in the integer type of `like` (the file's own type for the key).
gguf::Value same_int_type(const gguf::Value& like, int64_t n) {
  switch (like.type()) {
    case gguf::ValueType::kU8: return static_cast<uint8_t>(n);
    case gguf::ValueType::kI8: return static_cast<int8_t>(n);
    case gguf::ValueType::kU16: return static_cast<uint16_t>(n);
    case gguf::ValueType::kI16: return static_cast<int16_t>(n);
    case gguf::ValueType::kI32: return static_cast<int32_t>(n);
    case gguf::ValueType::kU64: return static_cast<uint64_t>(n);
    case gguf::ValueType::kI64: return n;
    default: return static_cast<uint32_t>(n);
  }
}

Error invalid(std::string msg) { return Error{ErrorCode::kInvalidInput, std::move(msg)}; }

}  // namespace

Result<PruneSummary> prune_experts(const std::filesystem::path& model_path, const std::filesystem::path& mask_path,
                                   const std::filesystem::path& out) {
  const std::filesystem::path inputs[] = {model_path, mask_path};
  if (auto ok = check_output_path(out, inputs, "prune -o"); !ok) return tl::unexpected(ok.error());
  SY_TRY_ASSIGN(file, gguf::File::open(model_path));
  SY_TRY_ASSIGN(config, load_config(file));
  SY_TRY_ASSIGN(mask_text, read_file(mask_path, "--mask file", 16u << 20));

  std::vector<moe::MoeLayerInfo> layers;
  for (size_t l = 0; l < config.layers.size(); ++l)
    if (config.layers[l].ffn.kind == FfnKind::kMoe)
      layers.push_back({.layer = static_cast<int32_t>(l), .config = config.layers[l].ffn.moe.routing});
  if (layers.empty()) return tl::unexpected(invalid(fmt::format("{}: the model has no MoE layers", file.source())));
  SY_TRY_ASSIGN(disabled, moe::parse_expert_mask(mask_text, mask_path.string(), layers,
                                                 static_cast<int32_t>(config.common.n_layer)));

  PruneSummary summary;
  const int32_t n_old = layers[0].config.n_expert;
  summary.n_expert_before = n_old;
  for (const moe::MoeLayerInfo& l : layers) {
    const auto& off = disabled[static_cast<size_t>(l.layer)];
    std::vector<int32_t> kept;
    for (int32_t e = 0; e < l.config.n_expert; ++e)
      if (off.empty() || off[static_cast<size_t>(e)] == 0) kept.push_back(e);
    const auto n_kept = static_cast<int32_t>(kept.size());
    if (!summary.kept.empty() && n_kept != static_cast<int32_t>(summary.kept[0].size()))
      return tl::unexpected(invalid(fmt::format(
          "{}: layer {} keeps {} experts and layer {} keeps {}: a GGUF has one expert count, so the mask must leave "
          "every MoE layer the same number of experts",
          mask_path.string(), layers[0].layer, summary.kept[0].size(), l.layer, n_kept)));
    if (n_kept < l.config.n_used)
      return tl::unexpected(invalid(fmt::format(
          "{}: layer {} would keep {} experts but routes each token to {} (experts_per_token must stay at or "
          "below the expert count)",
          mask_path.string(), l.layer, n_kept, l.config.n_used)));
    if (l.config.n_group > 1) {
      const int32_t per_group = l.config.n_expert / l.config.n_group;
      std::vector<int32_t> in_group(static_cast<size_t>(l.config.n_group), 0);
      for (int32_t e : kept) ++in_group[static_cast<size_t>(e / per_group)];
      if (std::adjacent_find(in_group.begin(), in_group.end(), std::not_equal_to<>()) != in_group.end())
        return tl::unexpected(invalid(fmt::format(
            "{}: layer {} routes within {} expert groups; pruning must keep the same number of experts in each "
            "group (it keeps {})",
            mask_path.string(), l.layer, l.config.n_group, fmt::join(in_group, ", "))));
    }
    summary.kept.push_back(std::move(kept));
  }
  const auto n_new = static_cast<int32_t>(summary.kept[0].size());
  summary.n_expert_after = n_new;

  // Which tensors to slice, by name, from the architecture's own table.
  std::unordered_map<std::string, const TensorSpec*> by_name;
  const std::vector<TensorSpec> table = tensor_table(config);
  for (const TensorSpec& s : table)
    if (s.layer >= 0 && per_expert(s.role)) by_name[s.name] = &s;
  std::vector<int> moe_index(config.layers.size(), -1);
  for (size_t i = 0; i < layers.size(); ++i) moe_index[static_cast<size_t>(layers[i].layer)] = static_cast<int>(i);

  gguf::Writer writer(file.alignment());
  const std::string count_key = config.common.arch + ".expert_count";
  bool count_set = false;
  for (const auto& [key, value] : file.metadata()) {
    if (key == count_key) {
      writer.set(key, same_int_type(value, n_new));
      count_set = true;
    } else {
      writer.set(key, value);
    }
  }
  if (!count_set) return tl::unexpected(invalid(fmt::format("{}: no {} key", file.source(), count_key)));
  struct Plan {
    const gguf::TensorInfo* info;
    const std::vector<int32_t>* kept;  // nullptr: copied whole
    uint64_t slab = 0;
  };
  std::vector<Plan> plan;
  for (const gguf::TensorInfo& t : file.tensors()) {
    gguf::TensorDecl decl{.name = t.name, .type = t.type, .ne = {t.ne.begin(), t.ne.begin() + t.n_dims}};
    Plan p{.info = &t, .kept = nullptr};
    if (const auto it = by_name.find(t.name); it != by_name.end() && n_new != n_old) {
      const TensorSpec& s = *it->second;
      const int idx = moe_index[static_cast<size_t>(s.layer)];
      if (t.n_dims == 0 || t.ne[t.n_dims - 1] != n_old || idx < 0)
        return tl::unexpected(
            invalid(fmt::format("{}: tensor {} has shape {}; its outermost dimension should be the "
                                "expert count {}",
                                file.source(), t.name, t.shape_string(), n_old)));
      p.kept = &summary.kept[static_cast<size_t>(idx)];
      p.slab = t.n_bytes / static_cast<uint64_t>(n_old);
      decl.ne.back() = n_new;
      ++summary.tensors_sliced;
    }
    if (auto ok = writer.add_tensor(std::move(decl)); !ok) return tl::unexpected(ok.error());
    plan.push_back(p);
  }
  if (auto ok = writer.begin(out); !ok) return tl::unexpected(ok.error());
  for (const Plan& p : plan) {
    if (p.kept == nullptr) {
      if (auto ok = writer.write_tensor_data(p.info->data); !ok) return tl::unexpected(ok.error());
      continue;
    }
    for (int32_t e : *p.kept)
      if (auto ok = writer.write_tensor_data(p.info->data.subspan(static_cast<uint64_t>(e) * p.slab, p.slab)); !ok)
        return tl::unexpected(ok.error());
  }
  if (auto ok = writer.finish(); !ok) return tl::unexpected(ok.error());
  summary.bytes_before = file.file_size();
  std::error_code ec;
  summary.bytes_after = std::filesystem::file_size(out, ec);
  return summary;
}

}  // namespace sy::model
