// Byte-level BPE inside one pre-tokenized word: start from one symbol per byte (its byte-level token) and
// repeatedly merge the adjacent pair with the lowest merge rank (leftmost first on ties), as llama.cpp and
// Hugging Face do. Works on token ids: every merge names two tokens, so a pair is one integer lookup.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace sy::tok {

class BpeWordEncoder {
 public:
  BpeWordEncoder(const Vocab& vocab, bool ignore_merges);

  // `word` is raw text (one pre-tokenizer piece). Appends its token ids to `out`.
  void encode(std::string_view word, std::vector<TokenId>& out);

 private:
  struct Symbol {
    int prev, next;
    uint32_t start, len;  // byte range in the word; len 0 once merged into its left neighbour
    TokenId id;           // -1: text that is no token (it can take part in no further merge)
  };
  struct Bigram {
    int32_t rank;
    int left, right;
    TokenId result;
    uint32_t size;  // bytes of left + right when queued: a stale entry no longer matches
  };
  void try_add(int left, int right);
  void emit_fallback(std::string_view bytes, std::vector<TokenId>& out);

  const Vocab& vocab_;
  bool ignore_merges_;
  std::array<TokenId, 256> byte_token_{};  // the token spelling each byte, -1 if the vocabulary lacks it
  std::vector<Symbol> symbols_;
  std::vector<Bigram> heap_;
  std::string spelled_;  // reused byte-level spelling buffer
};

}  // namespace sy::tok
