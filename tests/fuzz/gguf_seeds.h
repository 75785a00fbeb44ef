// Seed inputs for the GGUF reader fuzz target: small synthetic files that reach every value type, nested arrays,
// both versions, a non-default alignment and several tensor types, plus a shrunken copy of each conformance
// model (same metadata keys and tensor table, arrays cut short, tensors cut to one block) so that the fuzzer
// starts from real files without spending its time mutating megabytes of weights.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace sy::fuzz {

struct SeedInput {
  std::string name;  // a file name: "synthetic-all-types.gguf", "shrunk-qwen3moe-tiny.q8_0.gguf"
  std::vector<uint8_t> bytes;
};

// Builds the seeds, using `scratch` (an existing directory) for the writer's files.
Result<std::vector<SeedInput>> gguf_seed_inputs(const std::filesystem::path& scratch,
                                                const std::vector<std::filesystem::path>& conformance_models);

}  // namespace sy::fuzz
