// Which element type each tensor of a generated model gets, following llama-quantize's conventions so the
// files look like the ones users download:
//   * 1-D tensors (norms, biases, sinks, exp_probs_b) and the router ffn_gate_inp stay F32;
//   * a uniform scheme (f16, bf16, q8_0, q4_0, ..., q6_k) gives every other matrix that type;
//   * q4_k_m mimics llama-quantize's Q4_K_M mix (llama_tensor_get_type): Q4_K base; output Q6_K; attn_v Q6_K
//     on the "more bits" layers (first and last eighth, every third between); ffn_down / ffn_down_exps /
//     ffn_down_shexp Q6_K on those layers too; with exactly 8 experts attn_v and attn_k Q8_0 and attn_output
//     Q5_K (as llama.cpp does for Mixtral-like models);
//   * mxfp4_moe: routed-expert matrices MXFP4, other matrices Q8_0 (llama-quantize MXFP4_MOE);
//   * a K-quant whose row length (ne0) is not a multiple of 256 falls back as llama.cpp does: Q4_K→Q5_0,
//     Q5_K→Q5_1, Q6_K→Q8_0, Q2_K/Q3_K→Q4_0; any type whose block does not divide ne0 then falls to F16.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/tensor_type.h"
#include "model/hparams.h"
#include "model/tensor_table.h"

namespace sy::modelgen {

enum class SchemeKind { kUniform, kQ4KM, kMxfp4Moe };

struct QuantScheme {
  std::string name;  // as given on the command line, lower-case
  SchemeKind kind = SchemeKind::kUniform;
  TensorType base = TensorType::kF32;
  uint32_t file_type = 0;  // general.file_type (llama_ftype)
};

// "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k",
// "q4_k_m", "mxfp4_moe" (case-insensitive).
Result<QuantScheme> parse_scheme(std::string_view name);
std::string scheme_names();  // for help and errors

// One type per table entry.
std::vector<TensorType> plan_types(const QuantScheme& scheme, const model::ModelConfig& config,
                                   std::span<const model::TensorSpec> table);

}  // namespace sy::modelgen
