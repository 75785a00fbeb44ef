#include "model/model.h"

namespace sy::model {
namespace {

moe::ExpertTensor expert_tensor(const gguf::File& file, const gguf::TensorInfo& t) {
  return moe::ExpertTensor{.type = t.type,
                           .n_cols = t.ne[0],
                           .n_rows = t.ne[1],
                           .n_expert = t.ne[2],
                           .data = t.data.data(),
                           .file_offset = file.data_offset() + t.offset};
}

}  // namespace

Result<std::unique_ptr<Model>> Model::open(const std::filesystem::path& path) {
  auto file = gguf::File::open(path);
  if (!file) return tl::unexpected(file.error());
  auto model = from_file(std::move(*file));
  if (model) (*model)->path_ = path;
  return model;
}

Result<std::unique_ptr<Model>> Model::from_file(gguf::File file) {
  std::unique_ptr<Model> m(new Model(std::move(file)));
  auto config = load_config(m->file_);
  if (!config) return tl::unexpected(config.error());
  m->config_ = std::move(*config);
  auto weights = bind_weights(m->file_, m->config_);
  if (!weights) return tl::unexpected(weights.error());
  m->weights_ = std::move(*weights);
  std::vector<moe::LayerExperts> layers(m->config_.layers.size());
  for (size_t il = 0; il < layers.size(); ++il) {
    if (m->config_.layers[il].ffn.kind != FfnKind::kMoe) continue;
    const int l = static_cast<int>(il);
    const ModelWeights& w = m->weights_;
    layers[il] = moe::LayerExperts{.gate = expert_tensor(m->file_, *w.get(l, Role::kExpGate)),
                                   .up = expert_tensor(m->file_, *w.get(l, Role::kExpUp)),
                                   .down = expert_tensor(m->file_, *w.get(l, Role::kExpDown)),
                                   .gate_bias = w.f32(l, Role::kExpGateBias),
                                   .up_bias = w.f32(l, Role::kExpUpBias),
                                   .down_bias = w.f32(l, Role::kExpDownBias)};
  }
  m->expert_table_ = std::move(layers);
  m->resident_ = std::make_unique<moe::ResidentExpertStore>(m->expert_table_);
  return m;
}

}  // namespace sy::model
