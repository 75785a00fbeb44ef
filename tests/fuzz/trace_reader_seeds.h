// Seed inputs for the trace_reader fuzz target: real routing traces, written the way `--trace` writes them
// (apply_routing_options on an engine) while a conformance model runs two sequences, with the options the
// CLI tests use: router probabilities, hidden-state norms and next-layer predictions, k = 1, top-p, random.
#pragma once

#include <filesystem>
#include <vector>

#include "core/error.h"
#include "fuzz/gguf_seeds.h"

namespace sy::fuzz {

// `scratch` (an existing directory) receives the trace files; `model` is a conformance MoE model.
Result<std::vector<SeedInput>> trace_reader_seed_inputs(const std::filesystem::path& scratch,
                                                        const std::filesystem::path& model);

}  // namespace sy::fuzz
