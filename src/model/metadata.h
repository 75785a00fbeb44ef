// Typed access to an architecture's GGUF metadata keys ("<arch>.<key>"), with errors that name the key and
// the file. Specs use it to state which keys are required and which have defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "format/gguf_reader.h"

namespace sy::model {

class Metadata {
 public:
  Metadata(const gguf::File& file, std::string arch) : file_(file), arch_(std::move(arch)) {}

  const std::string& arch() const { return arch_; }
  const gguf::File& file() const { return file_; }
  // "<arch>.<key>"
  std::string full_key(std::string_view key) const;
  bool has(std::string_view key) const;

  Result<int64_t> u32(std::string_view key) const;  // required non-negative integer
  Result<int64_t> u32_or(std::string_view key, int64_t fallback) const;
  Result<float> f32(std::string_view key) const;
  Result<float> f32_or(std::string_view key, float fallback) const;
  Result<bool> flag_or(std::string_view key, bool fallback) const;
  Result<std::string> str_or(std::string_view key, std::string fallback) const;

 private:
  const gguf::Value* find(std::string_view key) const;
  const gguf::File& file_;
  std::string arch_;
};

// general.architecture of a file.
Result<std::string> architecture_of(const gguf::File& file);

}  // namespace sy::model
