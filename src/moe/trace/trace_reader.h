// Reads a whole routing trace into memory. A file cut short (crash, Ctrl-C, full disk) reads up to its last
// whole record and says so in `truncated_bytes`; anything else malformed is an error naming the offset.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "moe/trace/trace_format.h"

namespace sy::moe::trace {

struct Trace {
  TraceHeader header;
  std::vector<TraceRecord> records{};  // file order
  uint64_t truncated_bytes = 0;        // bytes of a partial last record that were ignored
};

Result<Trace> parse_trace(std::span<const uint8_t> bytes);
Result<Trace> read_trace(const std::string& path);

}  // namespace sy::moe::trace
