// A private anonymous mapping (RAII) that asks for transparent huge pages: for large buffers that are written
// once and read often (the expert cache's slot pool, the bandwidth probe), where 4 KiB pages would cost a fault
// per page on first touch and a TLB miss per page afterwards. Page-aligned; its pages are committed on first
// touch, so the size is a ceiling.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/error.h"

namespace sy {

class AnonymousMemory {
 public:
  // Fails (naming the size and the reason) when the mapping is refused; huge pages are advice only.
  static Result<AnonymousMemory> allocate(uint64_t bytes);

  AnonymousMemory() = default;
  AnonymousMemory(AnonymousMemory&& other) noexcept;
  AnonymousMemory& operator=(AnonymousMemory&& other) noexcept;
  AnonymousMemory(const AnonymousMemory&) = delete;
  AnonymousMemory& operator=(const AnonymousMemory&) = delete;
  ~AnonymousMemory();

  uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace sy
