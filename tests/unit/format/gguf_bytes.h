// Builds GGUF byte streams field by field, so tests can forge exactly the malformed file they need and know the
// offset of every field they wrote.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace sy::gguf::test {

class GgufBytes {
 public:
  uint64_t pos() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

  GgufBytes& raw(std::string_view s) {
    const size_t at = bytes_.size();
    bytes_.resize(at + s.size());
    if (!s.empty()) std::memcpy(bytes_.data() + at, s.data(), s.size());
    return *this;
  }
  GgufBytes& zeros(size_t n) {
    bytes_.resize(bytes_.size() + n, 0);
    return *this;
  }
  template <typename T>
  GgufBytes& put(T v) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &v, sizeof(T));
    return *this;
  }
  GgufBytes& u8(uint8_t v) { return put(v); }
  GgufBytes& u32(uint32_t v) { return put(v); }
  GgufBytes& u64(uint64_t v) { return put(v); }
  GgufBytes& i64(int64_t v) { return put(v); }
  GgufBytes& str(std::string_view s) {
    u64(s.size());
    return raw(s);
  }
  // "GGUF", version, tensor count, metadata count: 24 bytes.
  GgufBytes& header(int64_t n_tensors, int64_t n_kv, uint32_t version = 3) {
    raw("GGUF");
    u32(version);
    i64(n_tensors);
    return i64(n_kv);
  }
  // A key with a string value: a harmless way to make a file long enough for its counts.
  GgufBytes& kv_string(std::string_view key, std::string_view value) {
    str(key);
    u32(8);
    return str(value);
  }
  // A tensor info: name, n_dims, ne[], type id, offset in the data section.
  GgufBytes& tensor(std::string_view name, const std::vector<int64_t>& ne, uint32_t type, uint64_t offset) {
    str(name);
    u32(static_cast<uint32_t>(ne.size()));
    for (int64_t d : ne) i64(d);
    u32(type);
    return u64(offset);
  }
  GgufBytes& pad_to(uint64_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    return *this;
  }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace sy::gguf::test
