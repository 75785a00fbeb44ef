// An architecture spec (STYLE.md §1): the GGUF arch string and the function that reads that family's metadata
// keys into a ModelConfig (block recipes). The tensor table follows from the config (tensor_table.h), so a new
// MoE family is one new file in model/archs/ plus one line in arch_registry.cpp.
#pragma once

#include <span>
#include <string_view>

#include "core/error.h"
#include "format/gguf_reader.h"
#include "model/hparams.h"
#include "model/metadata.h"

namespace sy::model {

struct ArchSpec {
  std::string_view arch;                              // general.architecture
  std::string_view description;                       // which model families use it
  Result<ModelConfig> (*load)(const Metadata& meta);  // reads the keys (required / defaulted)
};

const ArchSpec* find_arch(std::string_view arch);
std::span<const ArchSpec* const> all_archs();

// Reads general.architecture, finds the spec, loads and sanity-checks the configuration.
Result<ModelConfig> load_config(const gguf::File& file);
// The same from metadata alone (a file about to be written): specs that decide by a tensor's presence consult
// map.tensor_names.
Result<ModelConfig> load_config(const MetadataMap& map);

}  // namespace sy::model
