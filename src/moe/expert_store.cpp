#include "moe/expert_store.h"

namespace sy::moe {
namespace {

kernels::MatrixView slab(const ExpertTensor& t, int32_t e) {
  const size_t row = row_bytes(t.type, static_cast<uint64_t>(t.n_cols));
  return kernels::MatrixView{.type = t.type,
                             .n_cols = t.n_cols,
                             .n_rows = t.n_rows,
                             .data = t.data + row * static_cast<size_t>(t.n_rows) * static_cast<size_t>(e),
                             .row_stride = row};
}

}  // namespace

Status ResidentExpertStore::acquire(int32_t layer, std::span<const int32_t> ids, std::span<ExpertWeights> out) {
  if (layer < 0 || static_cast<size_t>(layer) >= layers_.size() || layers_[static_cast<size_t>(layer)].gate.n_expert == 0)
    return fail(ErrorCode::kOutOfRange, "expert store: layer {} has no experts", layer);
  const LayerExperts& l = layers_[static_cast<size_t>(layer)];
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t e = ids[i];
    if (e < 0 || e >= l.gate.n_expert)
      return fail(ErrorCode::kOutOfRange, "expert store: layer {} has no expert {}", layer, e);
    const int64_t ff = l.gate.n_rows, d = l.down.n_rows;
    out[i] = ExpertWeights{.gate = slab(l.gate, e),
                           .up = slab(l.up, e),
                           .down = slab(l.down, e),
                           .gate_bias = l.gate_bias ? l.gate_bias + e * ff : nullptr,
                           .up_bias = l.up_bias ? l.up_bias + e * ff : nullptr,
                           .down_bias = l.down_bias ? l.down_bias + e * d : nullptr};
  }
  return {};
}

}  // namespace sy::moe
