// Seed inputs for the model_load fuzz target: one small complete model per architecture the engine runs,
// written by the random-weight generator from the "-tiny" presets with their dimensions cut down so that each
// file stays under the 64 KiB the fuzzer mutates (-max_len=65536). They load, so the fuzzer starts from files
// that reach the tensor table and the session instead of stopping at the first metadata key.
#pragma once

#include <filesystem>
#include <vector>

#include "core/error.h"
#include "fuzz/gguf_seeds.h"

namespace sy::fuzz {

// Builds the seeds, using `scratch` (an existing directory) for the generator's files.
Result<std::vector<SeedInput>> model_load_seed_inputs(const std::filesystem::path& scratch);

}  // namespace sy::fuzz
