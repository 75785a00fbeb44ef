#include "core/positional_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace sy {

Result<PositionalFile> PositionalFile::open(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the fstat below refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return fail(ErrorCode::kIo, "{}: cannot open: {}", path.string(), std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(ErrorCode::kInvalidInput, "{}: not a regular file", path.string());
  }
  PositionalFile f;
  f.fd_ = fd;
  f.size_ = static_cast<uint64_t>(st.st_size);
  f.path_ = path.string();
  return f;
}

PositionalFile::PositionalFile(PositionalFile&& other) noexcept { *this = std::move(other); }

PositionalFile& PositionalFile::operator=(PositionalFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    path_ = std::move(other.path_);
  }
  return *this;
}

PositionalFile::~PositionalFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status PositionalFile::read_at(uint64_t offset, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      return fail(ErrorCode::kIo, "{}: read of {} bytes at offset {} failed: {}", path_, out.size(), offset,
                  std::strerror(errno));
    if (got == 0)
      return fail(ErrorCode::kIo,
                  "{}: the file ends at {} bytes, inside the {} bytes read at offset {} (changed while in use?)", path_,
                  offset + done, out.size(), offset);
    done += static_cast<size_t>(got);
  }
  return {};
}

}  // namespace sy
