// A loaded model: the mapped GGUF file, its configuration (from the arch spec), the bound weights and the
// resident expert store. Immutable after open(); sessions keep their own state (KV cache, scratch).
#pragma once

#include <filesystem>
#include <memory>

#include "core/error.h"
#include "format/gguf_reader.h"
#include "model/arch_spec.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "moe/expert_store.h"

namespace sy::model {

class Model {
 public:
  static Result<std::unique_ptr<Model>> open(const std::filesystem::path& path);
  // Takes an already opened file (tests, tools).
  static Result<std::unique_ptr<Model>> from_file(gguf::File file);

  const gguf::File& file() const { return file_; }
  // The file open() read (empty after from_file): what a store that reads experts itself opens again.
  const std::filesystem::path& path() const { return path_; }
  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  // Every expert as mapped from the file; the default ExpertStore.
  moe::ExpertStore& resident_experts() const { return *resident_; }
  // Where each MoE layer's experts are (mapping and file offsets): for stores that place experts themselves.
  const moe::ExpertTable& expert_table() const { return expert_table_; }

 private:
  explicit Model(gguf::File file) : file_(std::move(file)) {}
  gguf::File file_;
  std::filesystem::path path_;
  ModelConfig config_;
  ModelWeights weights_;
  moe::ExpertTable expert_table_;
  std::unique_ptr<moe::ResidentExpertStore> resident_;
};

}  // namespace sy::model
