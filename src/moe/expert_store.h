// ExpertStore: the only way the forward pass reaches routed-expert weights (DESIGN.md). acquire() hands out
// views of the requested experts' gate/up/down slabs that stay valid until the matching release(); a
// resident store maps the file, a budgeted cache (later) reads and evicts slabs behind the same interface.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/error.h"
#include "kernels/matmul/matmul.h"

namespace sy::moe {

struct ExpertWeights {
  kernels::MatrixView gate;  // [n_ff][n_embd]
  kernels::MatrixView up;    // [n_ff][n_embd]
  kernels::MatrixView down;  // [n_embd][n_ff]
  const float* gate_bias = nullptr;  // [n_ff] or nullptr
  const float* up_bias = nullptr;    // [n_ff] or nullptr
  const float* down_bias = nullptr;  // [n_embd] or nullptr
};

class ExpertStore {
 public:
  virtual ~ExpertStore() = default;
  // Fills out[i] with expert ids[i] of `layer`; the views stay valid until release(layer, ids).
  virtual Status acquire(int32_t layer, std::span<const int32_t> ids, std::span<ExpertWeights> out) = 0;
  virtual void release(int32_t layer, std::span<const int32_t> ids) = 0;
};

// One MoE layer's expert tensors as stored: 3-D [ne0, ne1, n_expert] with one contiguous slab per expert.
struct ExpertTensor {
  TensorType type = TensorType::kF32;
  int64_t n_cols = 0;  // ne0
  int64_t n_rows = 0;  // ne1
  int64_t n_expert = 0;
  const uint8_t* data = nullptr;
};

struct LayerExperts {
  ExpertTensor gate, up, down;
  const float* gate_bias = nullptr;  // [n_expert][n_ff] or nullptr
  const float* up_bias = nullptr;
  const float* down_bias = nullptr;  // [n_expert][n_embd] or nullptr
};

// Every expert resident in the (memory-mapped) file: acquire is pointer arithmetic.
class ResidentExpertStore final : public ExpertStore {
 public:
  // layers[i] describes layer i; layers without experts have n_expert 0.
  explicit ResidentExpertStore(std::vector<LayerExperts> layers) : layers_(std::move(layers)) {}
  Status acquire(int32_t layer, std::span<const int32_t> ids, std::span<ExpertWeights> out) override;
  void release(int32_t, std::span<const int32_t>) override {}

 private:
  std::vector<LayerExperts> layers_;
};

}  // namespace sy::moe
