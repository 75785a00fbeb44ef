// Reads a GGUF file (versions 2 and 3, little-endian) through a memory mapping and exposes zero-copy tensor views.
// Everything is validated before use, and a malformed file gives an Error "<source>: offset <N>: <field>: ...":
//  - every count, length and offset is checked against the bytes left, with overflow-safe arithmetic;
//  - metadata keys are non-empty and unique; arrays (of any type, arrays included) nest at most kMaxArrayDepth;
//    a bool is 0 or 1; general.alignment, when present, is a u32 power of two;
//  - tensor names are 1..63 bytes and unique; 0..4 dimensions (0: a scalar), none negative, and every partial
//    product of them fits an int64; the type is known and ne[0] a multiple of its block; the data lies inside
//    the data section, starts at a multiple of the alignment, and overlaps no other tensor's data.
// Stricter than the format where llama.cpp is; looser where llama.cpp is stricter than it needs to be (tensors
// need not be contiguous or in file order) and where the format allows more than llama.cpp reads (arrays of arrays).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/tensor_type.h"
#include "format/gguf_value.h"

namespace sy::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr uint32_t kMaxDims = 4;
inline constexpr size_t kMaxTensorNameLength = 63;  // llama.cpp's GGML_MAX_NAME - 1
inline constexpr int kMaxArrayDepth = 4;            // arrays of arrays nest at most this deep
inline constexpr std::string_view kAlignmentKey = "general.alignment";

struct TensorInfo {
  std::string name;
  TensorType type = TensorType::kF32;
  uint32_t n_dims = 0;
  std::array<int64_t, kMaxDims> ne{1, 1, 1, 1};  // ggml order: ne[0] is the contiguous dimension
  uint64_t offset = 0;                           // relative to the data section
  uint64_t n_bytes = 0;
  uint64_t info_offset = 0;       // where this tensor's info starts in the file (for error messages)
  std::span<const uint8_t> data;  // view into the mapping

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  std::string shape_string() const;                    // "[64, 512]"
  std::string shape_string_upto(uint32_t dims) const;  // the first `dims` dimensions only
};

class File {
 public:
  // Maps and validates a file.
  static Result<File> open(const std::filesystem::path& path);
  // Validates bytes the caller keeps alive (fuzzing, in-memory tests). `source` names it in errors.
  static Result<File> parse(std::span<const uint8_t> bytes, std::string source);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return bytes_.size(); }
  const std::string& source() const { return source_; }

  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

 private:
  friend class Parser;
  std::shared_ptr<const MappedFile> mapping_;  // shared so tensor views can outlive a moved File
  std::span<const uint8_t> bytes_;
  std::string source_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::unordered_map<std::string, size_t> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace sy::gguf
