// Writes a random-weight GGUF: the metadata of a preset (or any MetadataMap), the tensor table the
// architecture spec derives from it, and for each tensor values drawn per row from a generator seeded by
// (seed, tensor index, row), so the bytes depend on the seed alone — not on the thread count or the chunking.
// Tensors stream to disk chunk by chunk: memory stays bounded whatever the model's size.
//
// Scales keep activations finite and routing non-degenerate (as the conformance generator does):
//   matrices N(0,1)/sqrt(fan_in), routers 2·N(0,1)/sqrt(fan_in), token embeddings N(0,1), norm weights
//   1 + 0.1·N(0,1), biases 0.05·N(0,1), exp_probs_b 0.1·N(0,1), attention sinks 0.5·N(0,1).
// fan_in is the row length ne0, except attn_k_b ([qk_nope, kv_lora, H]) whose input is the kv_lora latent.
// N(0,1) is approximated by a scaled sum of four uniforms (Irwin–Hall), bounded at ±2√3: cheap enough that
// quantisation, not sampling, sets the speed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/tensor_type.h"
#include "model/hparams.h"
#include "model/metadata.h"
#include "model/tensor_table.h"
#include "modelgen/type_plan.h"

namespace sy::modelgen {

struct PlannedModel {
  model::MetadataMap metadata;  // general.file_type / quantization_version are added by the writer
  model::ModelConfig config;
  std::vector<model::TensorSpec> table;  // every entry is written, optional ones included
  std::vector<TensorType> types;         // one per table entry
  uint32_t file_type = 0;

  uint64_t tensor_bytes() const;
};

// Derives the config (through the architecture spec), the tensor table and each tensor's type.
Result<PlannedModel> plan_model(model::MetadataMap metadata, const QuantScheme& scheme);

struct Progress {
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  size_t tensor = 0;  // index of the tensor being written
  size_t n_tensors = 0;
  double seconds = 0;
};

struct GenerateOptions {
  uint64_t seed = 1;
  int n_threads = 1;
  std::function<void(const Progress&)> on_progress;  // called after each chunk, from the calling thread
};

Status generate_model(const std::filesystem::path& out, const PlannedModel& model, const GenerateOptions& options);

// The values of one row of a tensor before quantisation (exposed for tests of scale and determinism).
void fill_row(const model::TensorSpec& spec, size_t tensor_index, int64_t row, uint64_t seed, std::span<float> out);

}  // namespace sy::modelgen
