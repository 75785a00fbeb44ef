// Model weights bound to the tensor table: one visitor checks every tensor of the table against the file
// (present, shape, element type, kernels available) and reports every mismatch at once. Afterwards tensors
// are answered by (layer, role) index, never by name. Views only: the bytes belong to the mapped file.
#pragma once

#include <array>
#include <vector>

#include "core/error.h"
#include "format/gguf_reader.h"
#include "kernels/matmul/matmul.h"
#include "model/hparams.h"
#include "model/tensor_table.h"

namespace sy::model {

class ModelWeights {
 public:
  static constexpr int kGlobal = -1;

  // nullptr when an optional tensor is absent.
  const gguf::TensorInfo* get(int layer, Role role) const;
  bool has(int layer, Role role) const { return get(layer, role) != nullptr; }
  // A 2-D tensor as a matrix [ne1 rows][ne0 cols]. The tensor must be bound.
  kernels::MatrixView matrix(int layer, Role role) const;
  // Matrix `index` of a 3-D tensor [ne0, ne1, ne2] (one expert's slab, or one head's projection).
  kernels::MatrixView slab(int layer, Role role, int64_t index) const;
  // An F32 tensor's values (norm weights, biases); nullptr when absent.
  const float* f32(int layer, Role role) const;

 private:
  friend Result<ModelWeights> bind_weights(const gguf::File& file, const ModelConfig& config);
  std::array<const gguf::TensorInfo*, kRoleCount> global_{};
  std::vector<std::array<const gguf::TensorInfo*, kRoleCount>> layers_;
};

// Binds and validates every tensor the config needs. The file must outlive the result.
Result<ModelWeights> bind_weights(const gguf::File& file, const ModelConfig& config);

kernels::MatrixView matrix_view(const gguf::TensorInfo& t, int64_t index = 0);

}  // namespace sy::model
