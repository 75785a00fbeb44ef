// A read-only file descriptor that reads at an offset (pread): what an expert store needs to load one expert's
// slab while other threads read others. RAII; reads are thread-safe (no shared file position).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "core/error.h"

namespace sy {

class PositionalFile {
 public:
  // Refuses anything but a regular file (a FIFO would block, a directory cannot be read).
  static Result<PositionalFile> open(const std::filesystem::path& path);

  PositionalFile() = default;
  PositionalFile(PositionalFile&& other) noexcept;
  PositionalFile& operator=(PositionalFile&& other) noexcept;
  PositionalFile(const PositionalFile&) = delete;
  PositionalFile& operator=(const PositionalFile&) = delete;
  ~PositionalFile();

  // Fills `out` with the bytes at [offset, offset + out.size()). Fails, naming the file and the range, on a
  // read error or when the file is shorter than that (it was truncated while in use).
  Status read_at(uint64_t offset, std::span<uint8_t> out) const;
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string path_;
};

}  // namespace sy
