// Writes a GGUF v3 file. Metadata and tensor declarations come first; tensor bytes are then streamed in
// declaration order, in as many chunks as the caller likes, so a file larger than memory can be written.
// The file is built under a temporary name and renamed into place by finish(): an interrupted write never
// leaves a truncated file behind under the final name.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor_type.h"
#include "format/gguf_value.h"

namespace sy::gguf {

struct TensorDecl {
  std::string name;
  TensorType type = TensorType::kF32;
  std::vector<int64_t> ne;  // ggml order, up to 4 dimensions (none: a scalar)
};

class Writer {
 public:
  // The data alignment is general.alignment when the metadata sets it (a u32 power of two), else `alignment`,
  // which is then written as general.alignment unless it is the default 32.
  explicit Writer(uint32_t alignment = 32) : alignment_(alignment) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer();

  // Metadata in the order given. A key set twice keeps its first position and takes the new value.
  void set(std::string key, Value value);
  // Declares a tensor; its bytes are written later with write_tensor_data().
  Status add_tensor(TensorDecl decl);

  // Validates everything declared (keys, array element types and depth, alignment, sizes), then writes
  // header, metadata and tensor infos to `path` + ".partial". Nothing is created when validation fails.
  Status begin(const std::filesystem::path& path);
  // Appends bytes of the current tensor (declaration order). When a tensor's bytes are complete the writer
  // pads and moves on to the next one.
  Status write_tensor_data(std::span<const uint8_t> bytes);
  // Checks every tensor was written in full, flushes, and renames the file into place. On failure the partial
  // file is removed (now, or by the destructor when the failure left it open).
  Status finish();

  size_t tensor_count() const { return tensors_.size(); }
  // Index of the tensor whose bytes are expected next (== tensor_count() when all are written).
  size_t current_tensor() const { return current_; }
  // The alignment begin() settled on (see the constructor).
  uint32_t alignment() const { return alignment_; }

 private:
  struct Declared {
    TensorDecl decl;
    uint64_t n_bytes = 0;
    uint64_t offset = 0;
  };
  Status write_bytes(const void* data, size_t n);
  Status write_value(const Value& value);
  Status write_string(const std::string& s);
  Status pad_to_alignment(uint64_t position);
  Status settle_alignment();
  Status validate_metadata() const;
  Status layout_tensors();
  void remove_partial();

  uint32_t alignment_;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<Declared> tensors_;
  std::filesystem::path path_;
  std::filesystem::path partial_path_;
  std::vector<char> buffer_;  // stdio buffer of out_: declared first so it outlives the stream
  std::unique_ptr<FILE, int (*)(FILE*)> out_{nullptr, &std::fclose};
  uint64_t position_ = 0;
  size_t current_ = 0;
  uint64_t written_in_current_ = 0;
};

}  // namespace sy::gguf
