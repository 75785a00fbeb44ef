// Fuzz target: the vocabulary loader and tokenizer construction on arbitrary GGUF bytes. Any outcome but a
// clean error or a working tokenizer (which must then tokenize a fixed text) is a finding.
#include <cstdlib>
#include <span>

#include "format/gguf_reader.h"
#include "fuzz/fuzz_target.h"
#include "tokenizer/tokenizer.h"

SY_FUZZ_TARGET(tokenizer_vocab) {
  auto file = sy::gguf::File::parse(std::span<const uint8_t>(data, size), "fuzz");
  if (!file) return 0;
  auto tok = sy::tok::Tokenizer::from_gguf(*file);
  if (!tok) return 0;
  for (bool special : {false, true}) {
    auto ids = tok->encode("Hello, world! <|im_start|> 123 \xF0\x9F\xA6\x99 \xFF",
                           {.add_special = true, .parse_special = special});
    if (!ids) abort();
    for (auto id : *ids)
      if (id < 0 || static_cast<size_t>(id) >= tok->size()) abort();
    (void)tok->decode(*ids);
  }
  return 0;
}
