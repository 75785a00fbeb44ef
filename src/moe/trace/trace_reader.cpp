#include "moe/trace/trace_reader.h"

#include "core/mapped_file.h"

namespace sy::moe::trace {

Result<Trace> parse_trace(std::span<const uint8_t> bytes) {
  Trace t;
  size_t at = 0;
  auto header = decode_header(bytes, at);
  if (!header) return tl::unexpected(header.error());
  t.header = std::move(*header);
  const size_t rb = t.header.record_bytes();
  const size_t n = (bytes.size() - at) / rb;
  t.records.reserve(n);
  for (size_t i = 0; i < n; ++i, at += rb) {
    auto r = decode_record(t.header, bytes.subspan(at, rb), at);
    if (!r) return tl::unexpected(r.error());
    t.records.push_back(std::move(*r));
  }
  t.truncated_bytes = bytes.size() - at;
  return t;
}

Result<Trace> read_trace(const std::string& path) {
  auto file = MappedFile::open(path);
  if (!file) return tl::unexpected(file.error());
  auto t = parse_trace(file->bytes());
  if (!t) return fail(t.error().code, "{}: {}", path, t.error().message);
  return t;
}

}  // namespace sy::moe::trace
