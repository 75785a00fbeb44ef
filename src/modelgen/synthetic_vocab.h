// A small, valid byte-level BPE vocabulary of any size >= kMinVocab, for generated models: real vocabulary
// sizes keep parameter counts right (embedding and output matrices dominate small models) while the content
// stays tiny and synthetic.
//
// Layout (GPT-2 conventions, as llama.cpp loads them):
//   ids 0..255       the 256 byte tokens in GPT-2's byte→unicode spelling, id == byte value (type NORMAL)
//   256..            tokens made by a few merges of common English pieces ("Ġt h" → "Ġth" ...), one merge each
//   ...              filler tokens "<filler_N>" (NORMAL; never produced by the merges) up to the specials
//   last 3           <|endoftext|> (BOS = EOS), <|im_start|>, <|im_end|> (CONTROL)
// Every token string is distinct. A ChatML chat template is included.
#pragma once

#include <cstdint>

#include "core/error.h"
#include "model/metadata.h"

namespace sy::modelgen {

inline constexpr int64_t kMinVocab = 256 + 3;

// Appends (or replaces) the tokenizer.* keys of `map` for a vocabulary of n_vocab tokens.
Status add_synthetic_vocab(model::MetadataMap& map, int64_t n_vocab);

}  // namespace sy::modelgen
