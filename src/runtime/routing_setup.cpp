#include "runtime/routing_setup.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/file_io.h"
#include "model/tensor_table.h"
#include "moe/policies/routing_spec.h"
#include "moe/predict/next_layer_predictor.h"
#include "moe/trace/trace_writer.h"

namespace sy::runtime {
namespace {

Result<std::string> read_text(const std::string& path, const char* option) {
  constexpr size_t kMaxRoutingFileBytes = size_t{64} << 20;  // a mask or bias line per layer and expert
  return read_file(path, fmt::format("{} file", option), kMaxRoutingFileBytes);
}

// Reports the next-layer prediction recall when the run ends (the trace keeps the per-token detail).
class PredictionSummary final : public moe::RoutingObserver {
 public:
  PredictionSummary(std::vector<moe::RouterWeights> layers, std::function<void(std::string_view)> report)
      : layers_(layers), predictor_(std::move(layers)), report_(std::move(report)) {}
  ~PredictionSummary() override {
    if (!report_) return;
    const auto& recall = predictor_.recall();
    for (size_t i = 1; i < recall.size(); ++i)
      if (recall[i].chosen > 0)
        report_(fmt::format("predict-next: layer {} recall@{} = {:.4f} ({} of {} experts)", layers_[i].layer,
                            layers_[i].config.n_used,
                            static_cast<double>(recall[i].hits) / static_cast<double>(recall[i].chosen), recall[i].hits,
                            recall[i].chosen));
  }
  void on_routing(const moe::RoutingEvent& event) override { predictor_.on_routing(event); }
  const moe::NextLayerPredictor& predictor() const { return predictor_; }

 private:
  std::vector<moe::RouterWeights> layers_;
  moe::NextLayerPredictor predictor_;
  std::function<void(std::string_view)> report_;
};

}  // namespace

std::vector<moe::MoeLayerInfo> moe_layers(const model::Model& model) {
  const auto& cfg = model.config();
  std::vector<moe::MoeLayerInfo> layers;
  for (int32_t l = 0; l < static_cast<int32_t>(cfg.layers.size()); ++l)
    if (cfg.layers[static_cast<size_t>(l)].ffn.kind == model::FfnKind::kMoe)
      layers.push_back({.layer = l, .config = cfg.layers[static_cast<size_t>(l)].ffn.moe.routing});
  return layers;
}

std::vector<moe::RouterWeights> moe_router_weights(const model::Model& model) {
  std::vector<moe::RouterWeights> routers;
  const auto& cfg = model.config();
  for (int32_t l = 0; l < static_cast<int32_t>(cfg.layers.size()); ++l)
    if (cfg.layers[static_cast<size_t>(l)].ffn.kind == model::FfnKind::kMoe)
      routers.push_back({.layer = l,
                         .config = cfg.layers[static_cast<size_t>(l)].ffn.moe.routing,
                         .router = model.weights().matrix(l, model::Role::kRouter),
                         .router_bias = model.weights().f32(l, model::Role::kRouterBias),
                         .selection_bias = model.weights().f32(l, model::Role::kSelectionBias)});
  return routers;
}

Status apply_routing_options(Engine& engine, const RoutingOptions& o) {
  const model::Model& model = engine.model();
  const auto& cfg = model.config();
  const auto n_layer = static_cast<int32_t>(cfg.common.n_layer);
  const std::vector<moe::MoeLayerInfo> layers = moe_layers(model);

  moe::RoutingSpec spec{.route = o.route, .experts_per_token = o.experts_per_token};
  if (!o.expert_mask.empty()) {
    auto text = read_text(o.expert_mask, "--expert-mask");
    if (!text) return tl::unexpected(text.error());
    spec.mask_text = std::move(*text);
    spec.mask_source = o.expert_mask;
  }
  if (!o.route_bias.empty()) {
    auto text = read_text(o.route_bias, "--route-bias");
    if (!text) return tl::unexpected(text.error());
    spec.bias_text = std::move(*text);
    spec.bias_source = o.route_bias;
  }
  const bool routing_asked =
      !o.route.empty() || o.experts_per_token > 0 || !o.expert_mask.empty() || !o.route_bias.empty();
  if (layers.empty()) {
    if (routing_asked || !o.trace.empty() || o.predict_next)
      return fail(ErrorCode::kInvalidInput, "the model has no MoE layers: routing and trace options do not apply");
    return {};
  }
  auto built = moe::build_routing_policy(spec, layers, n_layer);
  if (!built) return tl::unexpected(built.error());
  if (built->policy) engine.set_policy(std::move(built->policy));

  const moe::NextLayerPredictor* predictor = nullptr;
  if (o.predict_next) {
    auto summary = std::make_unique<PredictionSummary>(moe_router_weights(model), o.report);
    predictor = &summary->predictor();
    engine.add_observer(std::move(summary));  // before the writer: the engine notifies in order
  }
  if (!o.trace.empty()) {
    moe::trace::TraceHeader header{.n_layer = static_cast<uint32_t>(n_layer),
                                   .slots = static_cast<uint32_t>(built->max_slots),
                                   .top_n = static_cast<uint32_t>(o.trace_top),
                                   .flags = o.trace_hidden_norm ? moe::trace::kFlagHiddenNorm : 0u,
                                   .policy = built->description};
    for (const moe::MoeLayerInfo& l : layers) {
      header.layers.push_back({static_cast<uint32_t>(l.layer), static_cast<uint32_t>(l.config.n_expert),
                               static_cast<uint32_t>(l.config.n_used)});
      if (o.predict_next) header.pred_slots = std::max(header.pred_slots, static_cast<uint32_t>(l.config.n_used));
    }
    // Before the writer opens (truncates) anything: the trace must not be one of the run's inputs.
    std::vector<std::filesystem::path> inputs = {model.file().source(), o.expert_mask, o.route_bias};
    inputs.insert(inputs.end(), o.inputs.begin(), o.inputs.end());
    if (auto ok = check_output_path(o.trace, inputs, "--trace"); !ok) return ok;
    auto writer = moe::trace::TraceWriter::create(o.trace, header, predictor);
    if (!writer) return tl::unexpected(writer.error());
    engine.add_observer(std::move(*writer));
  }
  return {};
}

}  // namespace sy::runtime
