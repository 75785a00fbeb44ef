// SentencePiece-style BPE over scores (`tokenizer.ggml.model` = "llama"): start from the characters, merge
// the adjacent pair whose concatenation is the highest-scoring token (leftmost on ties) until none is left,
// then spell any character that is not a token by its bytes ("<0xAB>" tokens). Merges only ever form tokens,
// so every piece left at the end is a token or a single character.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace sy::tok {

class SpmEncoder {
 public:
  explicit SpmEncoder(const Vocab& vocab, const std::vector<TokenId>& byte_tokens)
      : vocab_(vocab), byte_tokens_(byte_tokens) {}

  // `text` already has spaces escaped as U+2581. Appends ids to `out`.
  void encode(std::string_view text, std::vector<TokenId>& out);

 private:
  struct Symbol {
    int prev, next;
    uint32_t start, len;
  };
  struct Bigram {
    float score;
    int left, right;
    uint32_t size;
  };
  void try_add(int left, int right);

  const Vocab& vocab_;
  const std::vector<TokenId>& byte_tokens_;  // [256], -1 where the vocabulary has no byte token
  std::string_view text_;
  std::vector<Symbol> symbols_;
  std::vector<Bigram> heap_;
};

}  // namespace sy::tok
