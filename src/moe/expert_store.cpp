#include "moe/expert_store.h"

namespace sy::moe {

ExpertHandle& ExpertHandle::operator=(ExpertHandle&& o) noexcept {
  if (this != &o) {
    reset();
    store_ = std::exchange(o.store_, nullptr);
    layer_ = o.layer_;
    expert_ = o.expert_;
    weights_ = o.weights_;
  }
  return *this;
}

void ExpertHandle::reset() {
  if (store_ != nullptr) std::exchange(store_, nullptr)->release(layer_, expert_);
}

uint64_t ExpertTensor::slab_bytes() const {
  return row_bytes(type, static_cast<uint64_t>(n_cols)) * static_cast<uint64_t>(n_rows);
}

ExpertSlab ExpertTensor::slab(int32_t expert) const {
  const uint64_t bytes = slab_bytes();
  return ExpertSlab{.offset = file_offset + bytes * static_cast<uint64_t>(expert),
                    .bytes = bytes,
                    .type = type,
                    .n_cols = n_cols,
                    .n_rows = n_rows};
}

kernels::MatrixView ExpertTensor::view(const uint8_t* slab_data) const {
  return kernels::MatrixView{.type = type,
                             .n_cols = n_cols,
                             .n_rows = n_rows,
                             .data = slab_data,
                             .row_stride = row_bytes(type, static_cast<uint64_t>(n_cols))};
}

ExpertWeights LayerExperts::weights(int32_t e, const uint8_t* gate_bytes, const uint8_t* up_bytes,
                                    const uint8_t* down_bytes) const {
  const int64_t ff = gate.n_rows, d = down.n_rows;
  return ExpertWeights{.gate = gate.view(gate_bytes),
                       .up = up.view(up_bytes),
                       .down = down.view(down_bytes),
                       .gate_bias = gate_bias ? gate_bias + e * ff : nullptr,
                       .up_bias = up_bias ? up_bias + e * ff : nullptr,
                       .down_bias = down_bias ? down_bias + e * d : nullptr};
}

uint64_t routed_expert_bytes(const ExpertTable& table) {
  uint64_t n = 0;
  for (const LayerExperts& l : table)
    for (const ExpertTensor* t : {&l.gate, &l.up, &l.down}) n += t->slab_bytes() * static_cast<uint64_t>(t->n_expert);
  return n;
}

Status check_expert_id(const ExpertTable& table, int32_t layer, int32_t expert) {
  if (layer < 0 || static_cast<size_t>(layer) >= table.size() || table[static_cast<size_t>(layer)].n_expert() == 0)
    return fail(ErrorCode::kOutOfRange, "expert store: layer {} has no experts", layer);
  if (expert < 0 || expert >= table[static_cast<size_t>(layer)].n_expert())
    return fail(ErrorCode::kOutOfRange, "expert store: layer {} has no expert {}", layer, expert);
  return {};
}

Result<ExpertHandle> ResidentExpertStore::acquire(int32_t layer, int32_t e) {
  if (auto s = check_expert_id(table_, layer, e); !s) return tl::unexpected(s.error());
  const LayerExperts& l = table_[static_cast<size_t>(layer)];
  auto at = [e](const ExpertTensor& t) { return t.data + t.slab_bytes() * static_cast<uint64_t>(e); };
  return ExpertHandle(this, layer, e, l.weights(e, at(l.gate), at(l.up), at(l.down)));
}

}  // namespace sy::moe
