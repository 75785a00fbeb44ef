#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sy {

std::string_view file_kind_name(unsigned mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

Result<std::string> read_file(const std::filesystem::path& path, std::string_view what, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. It changes nothing for the
  // regular files we go on to read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::kIo, "cannot open {} '{}': {}", what, path.string(), std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return fail(ErrorCode::kIo, "cannot stat {} '{}': {}", what, path.string(), std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return fail(ErrorCode::kInvalidInput, "{} '{}' is {}, not a regular file", what, path.string(),
                file_kind_name(st.st_mode));
  const auto size = static_cast<size_t>(st.st_size);
  if (size > max_bytes)
    return fail(ErrorCode::kOutOfRange, "{} '{}' is {} bytes, more than the {} allowed", what, path.string(), size,
                max_bytes);
  std::string text(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, text.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrorCode::kIo, "cannot read {} '{}': {}", what, path.string(), std::strerror(errno));
    if (n == 0) break;  // shrank since fstat: keep what was there
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  return text;
}

Status check_output_path(const std::filesystem::path& out, std::span<const std::filesystem::path> inputs,
                         std::string_view option) {
  if (out.empty()) return {};
  struct stat out_st {};
  if (::stat(out.c_str(), &out_st) != 0) {
    if (errno == ENOENT) return {};  // a new file cannot be any input
    return fail(ErrorCode::kIo, "{} '{}': cannot stat: {}", option, out.string(), std::strerror(errno));
  }
  if (!S_ISREG(out_st.st_mode)) {
    // /dev/null is where people send output they do not want (a trace's cost without its file).
    struct stat null_st {};
    if (S_ISCHR(out_st.st_mode) && ::stat("/dev/null", &null_st) == 0 && null_st.st_rdev == out_st.st_rdev) return {};
    return fail(ErrorCode::kInvalidInput, "{} '{}' is {}; give a regular file to write", option, out.string(),
                file_kind_name(out_st.st_mode));
  }
  for (const auto& in : inputs) {
    if (in.empty()) continue;
    struct stat in_st {};
    if (::stat(in.c_str(), &in_st) != 0) continue;  // a missing input fails where it is read
    if (in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino)
      return fail(ErrorCode::kInvalidInput, "{} '{}' is the input file '{}'; refusing to overwrite it", option,
                  out.string(), in.string());
  }
  return {};
}

}  // namespace sy
