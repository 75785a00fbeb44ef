// Byte-level BPE inside one pre-tokenized word: start from the word's byte-level symbols and repeatedly merge
// the adjacent pair with the lowest merge rank (leftmost first on ties), as llama.cpp and Hugging Face do.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace sy::tok {

class BpeWordEncoder {
 public:
  explicit BpeWordEncoder(const Vocab& vocab, bool ignore_merges) : vocab_(vocab), ignore_merges_(ignore_merges) {}

  // `word` is already byte-level spelled. Appends its token ids to `out`.
  void encode(std::string_view word, std::vector<TokenId>& out);

 private:
  struct Symbol {
    int prev, next;
    uint32_t start, len;  // byte range in the word; len 0 once merged into its left neighbour
  };
  struct Bigram {
    int32_t rank;
    int left, right;
    uint32_t size;  // bytes of left + right when pushed: a stale entry no longer matches
  };
  void try_add(int left, int right);

  const Vocab& vocab_;
  bool ignore_merges_;
  std::string_view word_;
  std::vector<Symbol> symbols_;
  std::vector<Bigram> heap_;
  std::string key_;  // reused "left right" lookup buffer
};

}  // namespace sy::tok
