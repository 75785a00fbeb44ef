#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <utility>

#include "core/file_io.h"

namespace sy {

namespace {

// The SIGBUS handler's view of the live mappings. Process-wide because a signal handler is: it can only read
// lock-free atomics and plain memory published through them. A slot goes free → writing → ready in
// track() and back to free in untrack(); the handler reads ready slots only.
enum SlotState : int { kFree = 0, kWriting = 1, kReady = 2 };
struct TrackedMapping {
  std::atomic<int> state{kFree};
  const uint8_t* begin = nullptr;
  size_t size = 0;
  char path[512] = {};  // truncated to fit; NUL-terminated
};
std::array<TrackedMapping, kMaxTrackedMappings> g_mappings;
std::once_flag g_handler_once;

void write_all(const char* s, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}
void write_str(const char* s) { write_all(s, std::strlen(s)); }  // strlen is async-signal-safe since POSIX.1-2016

extern "C" void on_sigbus(int sig, siginfo_t* info, void*) {
  const auto* addr = static_cast<const uint8_t*>(info != nullptr ? info->si_addr : nullptr);
  for (const TrackedMapping& m : g_mappings) {
    if (m.state.load(std::memory_order_acquire) != kReady) continue;
    if (addr < m.begin || addr >= m.begin + m.size) continue;
    // Only async-signal-safe calls from here on: write(2) and _exit(2).
    write_str("switchyard: error: the file '");
    write_str(m.path);
    write_str("' changed or was truncated while in use (SIGBUS reading it); do not modify a model while it runs\n");
    ::_exit(kSigbusExitCode);
  }
  // Not one of our mappings: a real bug. Fall back to the default action when the fault repeats on return.
  ::signal(sig, SIG_DFL);
}

void install_sigbus_handler() {
  struct sigaction sa {};
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGBUS, &sa, nullptr);
}

int track(const uint8_t* begin, size_t size, const std::string& path) {
  std::call_once(g_handler_once, install_sigbus_handler);
  for (size_t i = 0; i < g_mappings.size(); ++i) {
    TrackedMapping& m = g_mappings[i];
    int expected = kFree;
    if (!m.state.compare_exchange_strong(expected, kWriting, std::memory_order_acquire)) continue;
    m.begin = begin;
    m.size = size;
    const size_t n = std::min(path.size(), sizeof(m.path) - 1);
    std::memcpy(m.path, path.data(), n);
    m.path[n] = '\0';
    m.state.store(kReady, std::memory_order_release);
    return static_cast<int>(i);
  }
  return -1;  // table full: the mapping works, a SIGBUS in it is just not named
}

void untrack(int slot) {
  if (slot >= 0) g_mappings[static_cast<size_t>(slot)].state.store(kFree, std::memory_order_release);
}

}  // namespace

Result<MappedFile> MappedFile::open(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer before the S_ISREG check below could refuse it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::kIo, "{}: cannot open: {}", path.string(), std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return fail(ErrorCode::kIo, "{}: cannot stat: {}", path.string(), std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(ErrorCode::kInvalidInput, "{}: is {}, not a regular file", path.string(), file_kind_name(st.st_mode));
  }
  MappedFile file;
  file.path_ = path.string();
  file.size_ = static_cast<size_t>(st.st_size);
  if (file.size_ > 0) {
    void* addr = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return fail(ErrorCode::kIo, "{}: cannot map {} bytes: {}", path.string(), file.size_, std::strerror(err));
    }
    file.data_ = static_cast<const uint8_t*>(addr);
    file.slot_ = track(file.data_, file.size_, file.path_);
  }
  ::close(fd);  // the mapping keeps the file alive
  return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      path_(std::move(other.path_)),
      slot_(std::exchange(other.slot_, -1)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    path_ = std::move(other.path_);
    slot_ = std::exchange(other.slot_, -1);
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() {
  untrack(std::exchange(slot_, -1));  // before munmap: the range may be reused by the next mapping
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace sy
