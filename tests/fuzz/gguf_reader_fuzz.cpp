// Fuzzes sy::gguf::File::parse: any input must give a File or an Error, never a crash, a hang, or a read
// outside the input. A parsed file is then walked completely — every value, every tensor byte — so that a view
// the reader validated wrongly is caught by AddressSanitizer here rather than by a model loader later.
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "format/gguf_reader.h"
#include "fuzz/fuzz_target.h"

namespace {

// Visits a value and everything nested in it; the sum keeps the compiler from skipping the reads.
uint64_t touch(const sy::gguf::Value& value) {
  uint64_t sum = value.to_display().size();
  if (auto i = value.as_int()) sum += static_cast<uint64_t>(*i);
  if (auto f = value.as_float()) sum += *f != 0.0 ? 1 : 0;
  if (auto b = value.as_bool()) sum += *b ? 1 : 0;
  if (const auto* s = value.as_string()) {
    for (char c : *s) sum += static_cast<unsigned char>(c);
  }
  if (const auto* a = value.as_array()) {
    for (size_t i = 0; i < a->size(); ++i) {
      const sy::gguf::Value item = a->at(i);
      if (item.type() != a->elem_type()) __builtin_trap();  // the reader promised homogeneous arrays
      sum += touch(item);
    }
  }
  return sum;
}

}  // namespace

SY_FUZZ_TARGET(gguf_reader) {
  // The copy has exactly `size` bytes on the heap, so AddressSanitizer flags a read one byte past the end.
  auto owned = std::make_unique<uint8_t[]>(size);
  if (size > 0) std::memcpy(owned.get(), data, size);
  auto file = sy::gguf::File::parse(std::span<const uint8_t>(owned.get(), size), "fuzz");
  if (!file) {
    if (file.error().message.empty()) __builtin_trap();  // every error must say something
    return 0;
  }
  volatile uint64_t sink = 0;
  uint64_t sum = file->version() + file->alignment() + file->data_offset();
  for (const auto& [key, value] : file->metadata()) {
    sum += key.size() + touch(value);
    if (file->find(key) != &value) __builtin_trap();  // the key index must agree with the list
  }
  for (const auto& t : file->tensors()) {
    if (file->find_tensor(t.name) != &t) __builtin_trap();
    if (t.data.size() != t.n_bytes) __builtin_trap();
    if (t.n_elements() < 0) __builtin_trap();
    sum += t.shape_string().size();
    for (uint8_t b : t.data) sum += b;
  }
  sink = sum;
  (void)sink;
  return 0;
}
