// The tensor table: given a ModelConfig, every tensor the model needs (or may carry) with its GGUF name,
// role, placement class and expected shape — without opening any weights, so `inspect` and the model
// generator can use it too. Shapes are in ggml order (ne0 = contiguous row length first).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/hparams.h"

namespace sy::model {

// What a tensor is for. Used as an index into bound weights (STYLE.md §11: answered by index).
enum class Role : uint8_t {
  kTokenEmbd,
  kOutputNorm,
  kOutput,
  kAttnNorm,
  kAttnQ,
  kAttnQBias,
  kAttnK,
  kAttnKBias,
  kAttnV,
  kAttnVBias,
  kAttnOut,
  kAttnOutBias,
  kAttnQNorm,
  kAttnKNorm,
  kAttnSinks,
  kAttnQA,  // MLA q down-projection
  kAttnQANorm,
  kAttnQB,   // MLA q up-projection
  kAttnKvA,  // MLA [c | k_rope] projection
  kAttnKvANorm,
  kAttnKB,  // MLA per-head k up-projection, [qk_nope, kv_lora, n_head]
  kAttnVB,  // MLA per-head v up-projection, [kv_lora, v_head, n_head]
  kFfnNorm,
  kFfnGate,
  kFfnUp,
  kFfnDown,
  kRouter,
  kRouterBias,
  kSelectionBias,
  kExpGate,
  kExpUp,
  kExpDown,
  kExpGateBias,
  kExpUpBias,
  kExpDownBias,
  kShGate,
  kShUp,
  kShDown,
  kShGateInp,  // Qwen2-MoE shared-expert sigmoid gate vector
  kCount,
};
inline constexpr size_t kRoleCount = static_cast<size_t>(Role::kCount);

enum class Placement : uint8_t {
  kEmbedding,
  kAttention,
  kNorm,
  kDenseFfn,
  kRouter,
  kRoutedExpert,
  kSharedExpert,
  kOutput,
};
std::string_view placement_name(Placement p);

// Which element types a tensor may have: norms, biases and sinks are F32 in every file llama.cpp writes;
// the router is never quantised; matrices may be any type switchyard has kernels for.
enum class TypeClass : uint8_t { kF32Only, kFloat, kAny };

struct RoleInfo {
  Role role;
  const char* pattern;  // GGUF name; "%d" is the layer index for per-layer tensors
  Placement placement;
  TypeClass types;
};
const RoleInfo& role_info(Role role);
std::string_view role_name(Role role);  // the pattern's stem, e.g. "ffn_gate_exps"

struct TensorSpec {
  Role role;
  int32_t layer = -1;  // -1: not per layer
  std::string name;
  std::array<int64_t, 3> shape{1, 1, 1};  // ggml order
  int32_t n_dims = 1;
  bool required = true;
  Placement placement;
  TypeClass types;

  int64_t n_elements() const { return shape[0] * shape[1] * shape[2]; }
};

// Every tensor of the model, global ones first, then layer by layer.
std::vector<TensorSpec> tensor_table(const ModelConfig& config);

}  // namespace sy::model
