#include "core/anonymous_memory.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace sy {

Result<AnonymousMemory> AnonymousMemory::allocate(uint64_t bytes) {
  AnonymousMemory m;
  if (bytes == 0) return m;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return fail(ErrorCode::kIo, "cannot map {} bytes of memory: {}", bytes, std::strerror(errno));
  ::madvise(p, bytes, MADV_HUGEPAGE);  // advice only: without THP the memory works the same
  m.data_ = static_cast<uint8_t*>(p);
  m.size_ = bytes;
  return m;
}

AnonymousMemory::AnonymousMemory(AnonymousMemory&& other) noexcept { *this = std::move(other); }

AnonymousMemory& AnonymousMemory::operator=(AnonymousMemory&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

AnonymousMemory::~AnonymousMemory() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

}  // namespace sy
