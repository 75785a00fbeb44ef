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
  // O_DIRECT reads need their offset, length and buffer address aligned to this (the largest logical block
  // size in use; 512 would do on most disks).
  static constexpr uint64_t kDirectAlign = 4096;

  // Refuses anything but a regular file (a FIFO would block, a directory cannot be read). With `direct`, also
  // opens the file for O_DIRECT reads, which bypass the page cache; where the file system refuses that
  // (tmpfs), has_direct() is false and only buffered reads work.
  static Result<PositionalFile> open(const std::filesystem::path& path, bool direct = false);

  PositionalFile() = default;
  PositionalFile(PositionalFile&& other) noexcept;
  PositionalFile& operator=(PositionalFile&& other) noexcept;
  PositionalFile(const PositionalFile&) = delete;
  PositionalFile& operator=(const PositionalFile&) = delete;
  ~PositionalFile();

  // Fills `out` with the bytes at [offset, offset + out.size()). Fails, naming the file and the range, on a
  // read error or when the file is shorter than that (it was truncated while in use).
  Status read_at(uint64_t offset, std::span<uint8_t> out) const;
  // An O_DIRECT read of the aligned range [offset, offset + out.size()) (offset, size and out.data() multiples
  // of kDirectAlign) that must deliver at least the bytes up to `needed_end`; the range may run past the end
  // of the file. Needs has_direct().
  Status read_direct(uint64_t offset, std::span<uint8_t> out, uint64_t needed_end) const;
  bool has_direct() const { return direct_fd_ >= 0; }
  // Tells the kernel the page cache may drop [offset, offset + bytes) (posix_fadvise DONTNEED): after a
  // buffered read whose bytes now live elsewhere. A hint; errors are ignored.
  void drop_cached(uint64_t offset, uint64_t bytes) const;
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  int direct_fd_ = -1;
  uint64_t size_ = 0;
  std::string path_;
};

}  // namespace sy
