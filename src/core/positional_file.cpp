#include "core/positional_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace sy {

Result<PositionalFile> PositionalFile::open(const std::filesystem::path& path, bool direct) {
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
  // A second descriptor: O_DIRECT is a property of the open file, and buffered reads stay possible beside it.
  // Opened by path after the checks above; the size check on every read catches a file swapped in between.
  if (direct) f.direct_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_DIRECT);
  return f;
}

PositionalFile::PositionalFile(PositionalFile&& other) noexcept { *this = std::move(other); }

PositionalFile& PositionalFile::operator=(PositionalFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    if (direct_fd_ >= 0) ::close(direct_fd_);
    fd_ = std::exchange(other.fd_, -1);
    direct_fd_ = std::exchange(other.direct_fd_, -1);
    size_ = other.size_;
    path_ = std::move(other.path_);
  }
  return *this;
}

PositionalFile::~PositionalFile() {
  if (fd_ >= 0) ::close(fd_);
  if (direct_fd_ >= 0) ::close(direct_fd_);
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

namespace sy {

Status PositionalFile::read_direct(uint64_t offset, std::span<uint8_t> out, uint64_t needed_end) const {
  const auto misaligned = [](uint64_t v) { return v % kDirectAlign != 0; };
  if (direct_fd_ < 0 || misaligned(offset) || misaligned(out.size()) ||
      misaligned(reinterpret_cast<uintptr_t>(out.data())) || needed_end > offset + out.size())
    return fail(ErrorCode::kInvalidInput, "{}: a direct read of {} bytes at offset {} is not aligned to {} bytes",
                path_, out.size(), offset, kDirectAlign);
  uint64_t done = 0;
  while (offset + done < needed_end) {
    const ssize_t got = ::pread(direct_fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      return fail(ErrorCode::kIo, "{}: direct read of {} bytes at offset {} failed: {}", path_, out.size(), offset,
                  std::strerror(errno));
    if (got == 0 || (offset + done + static_cast<uint64_t>(got) < needed_end && misaligned(static_cast<uint64_t>(got))))
      return fail(ErrorCode::kIo,
                  "{}: the file ends at {} bytes, inside the bytes up to {} read at offset {} (changed while in use?)",
                  path_, offset + done + static_cast<uint64_t>(std::max<ssize_t>(got, 0)), needed_end, offset);
    done += static_cast<uint64_t>(got);
  }
  return {};
}

void PositionalFile::drop_cached(uint64_t offset, uint64_t bytes) const {
  if (fd_ >= 0) ::posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(bytes), POSIX_FADV_DONTNEED);
}

}  // namespace sy
