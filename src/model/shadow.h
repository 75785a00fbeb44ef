// A low-bit shadow of a model's routed experts (`switchyard make-shadow`, `--on-miss low-bit`;
// docs/expert-cache.md): a GGUF holding only the routed-expert tensors, under the model's own names and shapes,
// requantised to a small type (q2_k, q3_k, q4_0), plus metadata naming the model it was made from. The expert
// cache computes a missing expert with its shadow copy while the full-precision slab loads for later tokens.
//
//   auto shadow = model::open_shadow(model, "model.q2_k.shadow.gguf");   // refuses another model's shadow
//   options.shadow = (*shadow)->experts; options.shadow_owner = *shadow;
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/tensor_type.h"
#include "format/gguf_reader.h"
#include "model/model.h"
#include "moe/expert_store.h"

namespace sy::model {

// general.architecture of a shadow file (so loading one as a model fails with that name).
inline constexpr const char* kShadowArch = "switchyard-shadow";

// What names the model a shadow was made from; written into the shadow, compared when it is opened.
struct ShadowSource {
  std::string arch;        // the model's general.architecture
  std::string file_name;   // the model file's name, without its directory (for messages)
  uint64_t file_size = 0;  // bytes
  uint64_t n_layer = 0;
  uint64_t n_expert = 0;    // routed experts per MoE layer (the largest)
  std::string fingerprint;  // 16 hex digits: FNV-1a over every tensor's name, type, shape, offset and first 4 KiB

  // "name (arch, L layers, E experts, S bytes, fingerprint F)"
  std::string describe() const;
};
ShadowSource shadow_source(const Model& model);

// The types a shadow may have.
bool is_shadow_type(TensorType type);

struct ShadowWriteOptions {
  TensorType type = TensorType::kQ4_0;
  int n_threads = 1;
  // Called after each expert tensor with (tensors done, tensors in all); may be empty.
  std::function<void(size_t, size_t)> on_progress = {};
};
struct ShadowWriteSummary {
  size_t n_tensors = 0;
  size_t n_fallback = 0;  // tensors written as q4_0 because their rows do not fill the type's 256-element blocks
};
// Writes the shadow of `model` to `path` (dequantise each expert row, quantise it to options.type; a K-quant
// whose blocks the rows do not fill falls back to q4_0, as llama-quantize does). Fails, writing nothing, when
// the type is not a shadow type or the rows do not fill q4_0's blocks either.
Result<ShadowWriteSummary> write_shadow(const Model& model, const std::filesystem::path& path,
                                        const ShadowWriteOptions& options);

// An opened shadow: the mapped file and the expert table over it (biases are the model's). Immutable.
struct Shadow {
  gguf::File file;
  moe::ExpertTable experts;  // same layers, expert counts and shapes as the model's expert_table()
  TensorType type = TensorType::kQ4_0;
  uint64_t expert_bytes = 0;  // the bytes that become resident
};
// Opens a shadow for `model` and reads its experts into memory: refuses a file that is not a shadow, the shadow
// of another model (naming both), or one whose tensors do not match the model's experts.
Result<std::shared_ptr<const Shadow>> open_shadow(const Model& model, const std::filesystem::path& path);

}  // namespace sy::model
