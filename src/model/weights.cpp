#include "model/weights.h"

#include <fmt/format.h>

#include "kernels/quant/quant.h"

namespace sy::model {
namespace {

std::string shape_of(const TensorSpec& s) {
  std::string out = "[";
  for (int i = 0; i < s.n_dims; ++i) out += fmt::format("{}{}", i ? ", " : "", s.shape[static_cast<size_t>(i)]);
  return out + "]";
}

// Empty when the tensor fits its spec, else what is wrong.
std::string check(const TensorSpec& spec, const gguf::TensorInfo& t) {
  bool same_shape = true;
  for (size_t i = 0; i < gguf::kMaxDims; ++i) {
    const int64_t want = i < spec.shape.size() ? spec.shape[i] : 1;
    if (t.ne[i] != want) same_shape = false;
  }
  if (!same_shape) return fmt::format("{}: shape {} but expected {}", spec.name, t.shape_string(), shape_of(spec));
  switch (spec.types) {
    case TypeClass::kF32Only:
      if (t.type != TensorType::kF32) return fmt::format("{}: type {} but must be f32", spec.name, type_name(t.type));
      break;
    case TypeClass::kFloat:
      if (t.type != TensorType::kF32 && t.type != TensorType::kF16 && t.type != TensorType::kBF16)
        return fmt::format("{}: type {} but must be f32, f16 or bf16", spec.name, type_name(t.type));
      break;
    case TypeClass::kAny: break;
  }
  if (kernels::find_kernels(t.type) == nullptr)
    return fmt::format("{}: tensor type {} has no kernels in this build", spec.name, type_name(t.type));
  return {};
}

}  // namespace

const gguf::TensorInfo* ModelWeights::get(int layer, Role role) const {
  const auto r = static_cast<size_t>(role);
  if (layer == kGlobal) return global_[r];
  SY_ASSERT(layer >= 0 && static_cast<size_t>(layer) < layers_.size(), "layer index comes from the config");
  return layers_[static_cast<size_t>(layer)][r];
}

kernels::MatrixView matrix_view(const gguf::TensorInfo& t, int64_t index) {
  const size_t row = row_bytes(t.type, static_cast<uint64_t>(t.ne[0]));
  const size_t slab = row * static_cast<size_t>(t.ne[1]);
  SY_ASSERT(index >= 0 && index < t.ne[2], "slab index within the validated tensor");
  return kernels::MatrixView{.type = t.type,
                             .n_cols = t.ne[0],
                             .n_rows = t.ne[1],
                             .data = t.data.data() + slab * static_cast<size_t>(index),
                             .row_stride = row};
}

kernels::MatrixView ModelWeights::matrix(int layer, Role role) const {
  const gguf::TensorInfo* t = get(layer, role);
  SY_ASSERT(t != nullptr, "required tensors are bound by bind_weights");
  return matrix_view(*t, 0);
}

kernels::MatrixView ModelWeights::slab(int layer, Role role, int64_t index) const {
  const gguf::TensorInfo* t = get(layer, role);
  SY_ASSERT(t != nullptr, "required tensors are bound by bind_weights");
  return matrix_view(*t, index);
}

const float* ModelWeights::f32(int layer, Role role) const {
  const gguf::TensorInfo* t = get(layer, role);
  if (t == nullptr) return nullptr;
  SY_ASSERT(t->type == TensorType::kF32, "bind_weights checks that vectors are f32");
  return reinterpret_cast<const float*>(t->data.data());
}

Result<ModelWeights> bind_weights(const gguf::File& file, const ModelConfig& config) {
  ModelWeights w;
  w.layers_.resize(config.layers.size());
  std::vector<std::string> problems;
  for (const TensorSpec& spec : tensor_table(config)) {
    const gguf::TensorInfo* t = file.find_tensor(spec.name);
    if (t == nullptr) {
      if (spec.required) problems.push_back(fmt::format("{}: missing (expected {})", spec.name, shape_of(spec)));
      continue;
    }
    if (std::string why = check(spec, *t); !why.empty()) {
      problems.push_back(std::move(why));
      continue;
    }
    auto& slot = spec.layer < 0 ? w.global_ : w.layers_[static_cast<size_t>(spec.layer)];
    slot[static_cast<size_t>(spec.role)] = t;
  }
  if (!problems.empty()) {
    std::string msg = fmt::format("{}: {} tensor problem(s) for architecture {}:", file.source(), problems.size(),
                                  config.common.arch);
    for (const auto& p : problems) msg += "\n  " + p;
    return fail(ErrorCode::kInvalidInput, std::move(msg));
  }
  // A tied output head reads the embedding matrix.
  if (w.global_[static_cast<size_t>(Role::kOutput)] == nullptr)
    w.global_[static_cast<size_t>(Role::kOutput)] = w.global_[static_cast<size_t>(Role::kTokenEmbd)];
  return w;
}

}  // namespace sy::model
