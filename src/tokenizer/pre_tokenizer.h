// Pre-tokenizers: the regular expressions that cut text into words before BPE runs inside each word. One
// table entry per `tokenizer.ggml.pre` name; each entry is a list of patterns applied in turn, every pattern
// splitting the pieces the previous one left (matches and the gaps between them both become pieces, like
// Hugging Face's Split with "Isolated" behaviour). Matching uses PCRE2 with JIT, UTF and Unicode properties.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sy::tok {

struct PreTokenizerSpec {
  std::string_view name;                   // the `tokenizer.ggml.pre` value
  std::vector<std::string_view> patterns;  // PCRE2 syntax, applied in order
  bool ignore_merges = false;              // a word that is already a token is not split by BPE
  // How Hugging Face tokenizer.json spells the same split (Split regexes in order, or the one regex of a
  // ByteLevel pre-tokenizer with use_regex): the importer recognises a vocabulary by these.
  std::vector<std::string_view> hf_patterns;
};

// Every known pre-tokenizer.
std::span<const PreTokenizerSpec> pre_tokenizer_specs();
const PreTokenizerSpec* find_pre_tokenizer(std::string_view name);

// A compiled pre-tokenizer. Thread-safe: each call uses its own match data.
class PreTokenizer {
 public:
  static Result<PreTokenizer> create(const PreTokenizerSpec& spec);
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;
  ~PreTokenizer();

  // Splits valid UTF-8 `text` into consecutive pieces (views into `text`) covering all of it.
  Status split(std::string_view text, std::vector<std::string_view>& pieces) const;
  const PreTokenizerSpec& spec() const { return *spec_; }

 private:
  struct Compiled;
  PreTokenizer() = default;
  const PreTokenizerSpec* spec_ = nullptr;
  std::vector<std::unique_ptr<Compiled>> regexes_;
};

}  // namespace sy::tok
