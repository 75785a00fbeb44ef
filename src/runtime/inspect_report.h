// The data behind `switchyard inspect`, as one JSON document (schema: docs/inspect-json.md). The text view
// renders this same document, so the two cannot disagree.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "format/gguf_reader.h"

namespace sy::runtime {

inline constexpr int kInspectSchemaVersion = 1;

struct InspectSettings {
  int64_t context = 4096;  // tokens the memory estimate provisions KV cache for
};

nlohmann::ordered_json inspect_report(const gguf::File& file, const InspectSettings& settings);
// Opens the file (errors name it) and reports on it.
Result<nlohmann::ordered_json> inspect_file(const std::string& path, const InspectSettings& settings);

}  // namespace sy::runtime
