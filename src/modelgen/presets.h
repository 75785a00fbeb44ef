// Named model shapes for `switchyard gen-model`. A preset *is* the GGUF metadata it writes: the tensor list
// follows from it through the architecture spec (load_config → tensor_table), so presets, inspect and the
// engine cannot disagree about a shape. Full-size presets carry the real dimensions of public checkpoints
// (from their Hugging Face config.json); "-tiny" presets mirror the conformance models' shapes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "model/metadata.h"

namespace sy::modelgen {

struct Preset {
  std::string_view name;
  std::string_view arch;         // general.architecture
  std::string_view description;  // where the shapes come from
  int64_t n_vocab;
  // Architecture keys without the "<arch>." prefix, in file order.
  void (*fill)(model::MetadataMap& map, std::string_view arch);
  bool selection_bias = false;  // holds exp_probs_b (DeepSeek-V3 style), which the spec detects by presence
};

std::span<const Preset> all_presets();
const Preset* find_preset(std::string_view name);

// One `--set KEY=VALUE` override. A key without a dot is an architecture key ("block_count" means
// "<arch>.block_count"). The key must be one the architecture's presets write (preset_metadata refuses
// others, listing the valid ones). The value takes the type of the key it replaces; a key the chosen
// preset lacks is typed from its text (integer → u32, number → f32, true/false → bool, else string).
struct Override {
  std::string key;
  std::string value;
};
Result<Override> parse_override(std::string_view text);

// The complete metadata of a preset: general.*, the architecture keys with overrides applied, and a synthetic
// vocabulary of `n_vocab` tokens (0: the preset's own size).
Result<model::MetadataMap> preset_metadata(const Preset& preset, std::span<const Override> overrides,
                                           int64_t n_vocab = 0);

}  // namespace sy::modelgen
