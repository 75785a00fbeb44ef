#include "model/accounting.h"

namespace sy::model {

Accounting account(const ModelConfig& config, std::span<const TensorCost> tensors) {
  Accounting a;
  std::vector<ExpertLayerCost> per_layer(config.layers.size());
  for (const TensorCost& t : tensors) {
    const auto p = static_cast<size_t>(t.placement);
    a.params[p] += t.n_elements;
    a.bytes[p] += t.n_bytes;
    a.total_params += t.n_elements;
    a.total_bytes += t.n_bytes;
    const bool in_layer = t.layer >= 0 && static_cast<size_t>(t.layer) < config.layers.size();
    const LayerRecipe* layer = in_layer ? &config.layers[static_cast<size_t>(t.layer)] : nullptr;
    if (t.placement == Placement::kRoutedExpert && layer != nullptr && layer->ffn.kind == FfnKind::kMoe) {
      const moe::RoutingConfig& r = layer->ffn.moe.routing;
      const double used = static_cast<double>(r.n_used) / static_cast<double>(r.n_expert);
      a.active_params += static_cast<double>(t.n_elements) * used;
      a.active_bytes += static_cast<double>(t.n_bytes) * used;
      ExpertLayerCost& c = per_layer[static_cast<size_t>(t.layer)];
      c.layer = t.layer;
      c.n_expert = r.n_expert;
      c.n_used = r.n_used;
      // Expert tensors are [.., .., E] (weights) or [.., E] (biases): each expert owns 1/E of them.
      c.params_per_expert += t.n_elements / r.n_expert;
      c.bytes_per_expert += t.n_bytes / static_cast<uint64_t>(r.n_expert);
      continue;
    }
    a.active_params += static_cast<double>(t.n_elements);
    if (t.placement == Placement::kEmbedding && t.rows > 0)
      a.active_bytes += static_cast<double>(t.n_bytes) / static_cast<double>(t.rows);
    else
      a.active_bytes += static_cast<double>(t.n_bytes);
  }
  for (const ExpertLayerCost& c : per_layer)
    if (c.n_expert > 0) a.expert_layers.push_back(c);
  return a;
}

std::vector<TensorCost> f32_costs(std::span<const TensorSpec> table) {
  std::vector<TensorCost> out;
  out.reserve(table.size());
  for (const TensorSpec& s : table)
    out.push_back({.placement = s.placement,
                   .layer = s.layer,
                   .n_elements = s.n_elements(),
                   .n_bytes = static_cast<uint64_t>(s.n_elements()) * 4,
                   .rows = s.shape[1] * s.shape[2]});
  return out;
}

}  // namespace sy::model
