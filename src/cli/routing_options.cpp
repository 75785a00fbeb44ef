#include "cli/routing_options.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include "core/file_io.h"
#include "model/tensor_table.h"
#include "moe/policies/routing_spec.h"
#include "moe/predict/next_layer_predictor.h"
#include "moe/trace/trace_writer.h"

namespace sy::cli {
namespace {

// Signal handlers can only touch lock-free atomics; this is the one piece of process-wide state the CLI keeps.
std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
  if (g_interrupted.exchange(true)) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

Result<std::string> read_text(const std::string& path, const char* option) {
  constexpr size_t kMaxRoutingFileBytes = size_t{64} << 20;  // a mask or bias line per layer and expert
  return read_file(path, fmt::format("{} file", option), kMaxRoutingFileBytes);
}

// Prints the next-layer prediction recall when the run ends (the trace keeps the per-token detail).
class PredictionSummary final : public moe::RoutingObserver {
 public:
  explicit PredictionSummary(std::vector<moe::RouterWeights> layers) : layers_(layers), predictor_(std::move(layers)) {}
  ~PredictionSummary() override {
    const auto& recall = predictor_.recall();
    for (size_t i = 1; i < recall.size(); ++i)
      if (recall[i].chosen > 0)
        fmt::print(stderr, "predict-next: layer {} recall@{} = {:.4f} ({} of {} experts)\n", layers_[i].layer,
                   layers_[i].config.n_used, static_cast<double>(recall[i].hits) / static_cast<double>(recall[i].chosen),
                   recall[i].hits, recall[i].chosen);
  }
  void on_routing(const moe::RoutingEvent& event) override { predictor_.on_routing(event); }
  const moe::NextLayerPredictor& predictor() const { return predictor_; }

 private:
  std::vector<moe::RouterWeights> layers_;
  moe::NextLayerPredictor predictor_;
};

}  // namespace

void add_routing_options(CLI::App* cmd, RoutingOptions& o) {
  cmd->add_option("--route", o.route,
                  "Routing policy: [LAYERS=]POLICY,... with POLICY native | top-k:K | top-p:P[:MIN[:MAX]][:renorm] | "
                  "random[:SEED] and LAYERS N, N-M, N-M+K (docs/routing.md)");
  cmd->add_option("--experts-per-token", o.experts_per_token, "Experts per token on every MoE layer (native rule otherwise)")
      ->check(CLI::Range(1, 255));
  cmd->add_option("--expert-mask", o.expert_mask, "File of experts to disable per layer ('LAYERS: e e e' lines)");
  cmd->add_option("--route-bias", o.route_bias, "File of per-expert selection biases ('LAYERS: b0 b1 ...' lines)");
  cmd->add_option("--trace", o.trace, "Write a routing trace (docs/trace-format.md)");
  cmd->add_option("--trace-top", o.trace_top, "Router probabilities kept per trace record")->check(CLI::Range(0, 256));
  cmd->add_flag("--trace-hidden-norm", o.trace_hidden_norm, "Record the norm of each router input in the trace");
  cmd->add_flag("--predict-next", o.predict_next,
                "Predict each MoE layer's experts with its router on the previous layer's input; recall on stderr, "
                "predictions in the trace");
}

Status apply_routing_options(runtime::Session& session, const RoutingOptions& o) {
  const model::Model& model = session.model();
  const auto& cfg = model.config();
  const auto n_layer = static_cast<int32_t>(cfg.common.n_layer);
  std::vector<moe::MoeLayerInfo> layers;
  for (int32_t l = 0; l < static_cast<int32_t>(cfg.layers.size()); ++l)
    if (cfg.layers[static_cast<size_t>(l)].ffn.kind == model::FfnKind::kMoe)
      layers.push_back({.layer = l, .config = cfg.layers[static_cast<size_t>(l)].ffn.moe.routing});

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
  const bool routing_asked = !o.route.empty() || o.experts_per_token > 0 || !o.expert_mask.empty() || !o.route_bias.empty();
  if (layers.empty()) {
    if (routing_asked || !o.trace.empty() || o.predict_next)
      return fail(ErrorCode::kInvalidInput, "the model has no MoE layers: routing and trace options do not apply");
    return {};
  }
  auto built = moe::build_routing_policy(spec, layers, n_layer);
  if (!built) return tl::unexpected(built.error());
  if (built->policy) session.set_policy(std::move(built->policy));

  const moe::NextLayerPredictor* predictor = nullptr;
  if (o.predict_next) {
    std::vector<moe::RouterWeights> routers;
    for (const moe::MoeLayerInfo& l : layers)
      routers.push_back({.layer = l.layer,
                         .config = l.config,
                         .router = model.weights().matrix(l.layer, model::Role::kRouter),
                         .router_bias = model.weights().f32(l.layer, model::Role::kRouterBias),
                         .selection_bias = model.weights().f32(l.layer, model::Role::kSelectionBias)});
    auto summary = std::make_unique<PredictionSummary>(std::move(routers));
    predictor = &summary->predictor();
    session.add_observer(std::move(summary));  // before the writer: the session notifies in order
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
    const std::filesystem::path inputs[] = {model.file().source(), o.expert_mask, o.route_bias};
    if (auto ok = check_output_path(o.trace, inputs, "--trace"); !ok) return ok;
    auto writer = moe::trace::TraceWriter::create(o.trace, header, predictor);
    if (!writer) return tl::unexpected(writer.error());
    session.add_observer(std::move(*writer));
  }
  return {};
}

void install_interrupt_handler() { std::signal(SIGINT, on_sigint); }

bool interrupted() { return g_interrupted.load(std::memory_order_relaxed); }

const std::atomic<bool>* interrupt_flag() { return &g_interrupted; }

}  // namespace sy::cli
