// Typed access to an architecture's GGUF metadata keys ("<arch>.<key>"), with errors that name the key and
// its source. Specs use it to state which keys are required and which have defaults. The keys come from an
// opened GGUF file or from a MetadataMap: the metadata of a file not yet written (gen-model presets), so the
// same spec turns either into a ModelConfig.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "format/gguf_reader.h"

namespace sy::model {

// A GGUF's metadata without a file: the key→value list in file order, plus the names of the tensors the file
// will hold wherever a spec decides by a tensor's presence (e.g. DeepSeek-V3's exp_probs_b).
struct MetadataMap {
  std::string source;  // names the map in errors ("preset qwen3-30b-a3b")
  std::vector<std::pair<std::string, gguf::Value>> entries;
  std::vector<std::string> tensor_names;

  const gguf::Value* find(std::string_view key) const;
  // Replaces the value of an existing key in place, else appends.
  void set(std::string key, gguf::Value value);
  void erase(std::string_view key);
};

class Metadata {
 public:
  Metadata(const gguf::File& file, std::string arch) : file_(&file), arch_(std::move(arch)) {}
  Metadata(const MetadataMap& map, std::string arch) : map_(&map), arch_(std::move(arch)) {}

  const std::string& arch() const { return arch_; }
  // The file name or the map's source, for error messages.
  const std::string& source() const;
  // "<arch>.<key>"
  std::string full_key(std::string_view key) const;
  bool has(std::string_view key) const;
  // Any key by its full name (tokenizer.*, general.*).
  const gguf::Value* find_global(std::string_view full_key) const;
  // Whether the model holds a tensor of this name; ne[dim] of it when the source knows shapes (files do).
  bool has_tensor(std::string_view name) const;
  std::optional<int64_t> tensor_dim(std::string_view name, size_t dim) const;
  // How many blocks the file's tensors describe: 1 + the largest N of a "blk.N." tensor; 0 when it has none.
  // nullopt for a MetadataMap, which does not list every tensor.
  std::optional<int64_t> tensor_block_count() const;

  Result<int64_t> u32(std::string_view key) const;  // required non-negative integer
  Result<int64_t> u32_or(std::string_view key, int64_t fallback) const;
  Result<float> f32(std::string_view key) const;
  Result<float> f32_or(std::string_view key, float fallback) const;
  Result<bool> flag_or(std::string_view key, bool fallback) const;
  Result<std::string> str_or(std::string_view key, std::string fallback) const;

 private:
  const gguf::Value* find(std::string_view key) const;
  const gguf::File* file_ = nullptr;  // exactly one of file_ / map_ is set
  const MetadataMap* map_ = nullptr;
  std::string arch_;
};

// general.architecture of a file.
Result<std::string> architecture_of(const gguf::File& file);

}  // namespace sy::model
