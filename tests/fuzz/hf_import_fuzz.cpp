// Fuzz target: a Hugging Face tokenizer as `switchyard convert-tokenizer` reads it. Input: the bytes of
// tokenizer.json, then (after the first NUL byte, which JSON text cannot hold) those of tokenizer_config.json.
// An import that succeeds must give a vocabulary the engine's tokenizer accepts and that tokenizes a fixed
// text into ids in range; anything but that or a clean error (which says something) is a finding. Seeds:
// tests/fuzz/seeds/hf_import/ (real tokenizers cut down by tests/fuzz/make_hf_import_seeds.py).
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_target.h"
#include "tokenizer/hf_import.h"
#include "tokenizer/tokenizer.h"

SY_FUZZ_TARGET(hf_import) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  sy::tok::HfTokenizerFiles files{.dir = "fuzz", .tokenizer_json = std::string(input.substr(0, nul))};
  if (nul != std::string_view::npos) files.tokenizer_config_json = std::string(input.substr(nul + 1));
  auto imported = sy::tok::import_hf_tokenizer(files);
  if (!imported) {
    if (imported.error().message.empty()) __builtin_trap();  // every error must say something
    return 0;
  }
  // convert-tokenizer writes the vocabulary and reads it back as a tokenizer; a refusal there must be clean too.
  auto tok = sy::tok::Tokenizer::create(std::move(imported->vocab));
  if (!tok) {
    if (tok.error().message.empty()) __builtin_trap();
    return 0;
  }
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
