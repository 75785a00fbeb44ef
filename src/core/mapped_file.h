// A read-only memory mapping of a whole file (RAII). Tensor views point into it, so it must outlive them.
//
// A file truncated or rewritten in place while mapped makes the kernel raise SIGBUS on the next read of a page
// past its new end. While a mapping is alive its range and path sit in a small fixed table (kMaxTrackedMappings
// slots; more mappings still work, unnamed), and a SIGBUS handler installed by the first open() turns such a
// fault into "switchyard: error: the file 'X' changed or was truncated while in use (SIGBUS reading it)" and
// _exit(kSigbusExitCode). A fault outside every tracked mapping keeps the default action (a core dump).
//
// Why a handler rather than reading resident tensors into memory: a copy costs the whole model in private
// memory on top of the page cache, and a full read before the first token. Measured on a 1 GiB file, warm page
// cache, a loaded 2-core VM: read() into a buffer 5.0-6.6 s and 1 GiB of private (unreclaimable) memory beside
// the cached 1 GiB; mmap + touching every page 0.45-0.62 s and nothing beyond the page cache. The expert store
// also streams experts from the mapping, which a copy would defeat. A file changing under a run is an operator
// error to report clearly, not a cost to pay on every run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "core/error.h"

namespace sy {

inline constexpr size_t kMaxTrackedMappings = 16;
inline constexpr int kSigbusExitCode = 1;  // the same as any other error of a command

class MappedFile {
 public:
  static Result<MappedFile> open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  void release();

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  int slot_ = -1;  // this mapping's entry in the SIGBUS table; -1 when untracked
};

}  // namespace sy
