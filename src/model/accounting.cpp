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

std::vector<TensorCost> file_costs(const ModelConfig& config, const gguf::File& file) {
  std::vector<TensorCost> out;
  for (const TensorSpec& s : tensor_table(config)) {
    const gguf::TensorInfo* t = file.find_tensor(s.name);
    if (t == nullptr) continue;
    out.push_back({.placement = s.placement,
                   .layer = s.layer,
                   .n_elements = t->n_elements(),
                   .n_bytes = t->n_bytes,
                   .rows = t->ne[1] * t->ne[2] * t->ne[3]});
  }
  return out;
}

DecodeCost decode_cost(const ModelConfig& config, std::span<const TensorCost> tensors) {
  DecodeCost c;
  c.expert_bytes.assign(config.layers.size(), 0);
  c.n_expert.assign(config.layers.size(), 0);
  bool has_output = false;
  uint64_t embedding_bytes = 0;
  for (const TensorCost& t : tensors) {
    const bool in_layer = t.layer >= 0 && static_cast<size_t>(t.layer) < config.layers.size();
    const LayerRecipe* layer = in_layer ? &config.layers[static_cast<size_t>(t.layer)] : nullptr;
    if (t.placement == Placement::kRoutedExpert && layer != nullptr && layer->ffn.kind == FfnKind::kMoe &&
        layer->ffn.moe.routing.n_expert > 0) {
      const int32_t n_expert = layer->ffn.moe.routing.n_expert;
      // Expert tensors are [.., .., E] (weights) or [.., E] (biases): each expert owns 1/E of them.
      c.expert_bytes[static_cast<size_t>(t.layer)] += t.n_bytes / static_cast<uint64_t>(n_expert);
      c.n_expert[static_cast<size_t>(t.layer)] = n_expert;
      continue;
    }
    if (t.placement == Placement::kOutput) has_output = true;
    if (t.placement == Placement::kEmbedding && t.rows > 0) {
      embedding_bytes += t.n_bytes;
      c.fixed_bytes += t.n_bytes / static_cast<uint64_t>(t.rows);
      continue;
    }
    c.fixed_bytes += t.n_bytes;
  }
  // A tied head multiplies by the whole embedding matrix (weights.cpp binds it as the output).
  if (!has_output) c.fixed_bytes += embedding_bytes;
  return c;
}

double DecodeCost::mean_bytes(std::span<const int64_t> expert_counts, int64_t n_tokens) const {
  double routed = 0;
  for (size_t l = 0; l < expert_counts.size() && l < expert_bytes.size(); ++l)
    routed += static_cast<double>(expert_counts[l]) * static_cast<double>(expert_bytes[l]);
  return static_cast<double>(fixed_bytes) + (n_tokens > 0 ? routed / static_cast<double>(n_tokens) : 0.0);
}

uint64_t DecodeCost::max_bytes() const {
  uint64_t total = fixed_bytes;
  for (size_t l = 0; l < expert_bytes.size(); ++l) total += static_cast<uint64_t>(n_expert[l]) * expert_bytes[l];
  return total;
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
