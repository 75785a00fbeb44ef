// The tokenizer a model uses: text -> token ids and back, built from a Vocab.
//
//   auto tok = sy::tok::Tokenizer::create(std::move(vocab));
//   auto ids = tok->encode("Hello", {.add_special = true, .parse_special = false});
//   sy::tok::Detokenizer stream(*tok);  std::string out = stream.push(id);   // valid UTF-8 only
//
// A Tokenizer is immutable after creation and safe to use from several threads at once.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocab.h"

namespace sy::gguf {
class File;
}

namespace sy::tok {

struct EncodeOptions {
  bool add_special = true;     // add BOS/EOS where the vocabulary asks for them
  bool parse_special = false;  // recognise control tokens ("<|im_start|>") written in the text
};

class Tokenizer {
 public:
  static Result<Tokenizer> create(Vocab vocab);
  static Result<Tokenizer> from_gguf(const gguf::File& file);
  // Opens a GGUF file (a model or a vocabulary-only file) and loads its tokenizer; errors name the file.
  static Result<Tokenizer> open(const std::string& path);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Text that is not valid UTF-8 is tokenized as if each bad byte were U+FFFD.
  Result<std::vector<TokenId>> encode(std::string_view text, EncodeOptions options = {}) const;

  // The bytes a token stands for (may be part of a UTF-8 character). Control and unknown tokens give their
  // text only when `special` is true; ids out of range give nothing.
  std::string token_to_piece(TokenId id, bool special = true) const;
  // All pieces joined, as valid UTF-8; the space an SPM vocabulary adds in front of text is dropped, so
  // decode(encode(text, {.add_special = false})) gives `text` back — except that an SPM vocabulary reads a
  // U+2581 in the text as the space it stands for (as SentencePiece and llama.cpp do), which decodes as ' '.
  std::string decode(std::span<const TokenId> ids, bool special = true) const;

  const Vocab& vocab() const { return *vocab_; }
  size_t size() const { return vocab_->size(); }

 private:
  Tokenizer() = default;
  struct Impl;
  std::unique_ptr<const Vocab> vocab_;
  std::unique_ptr<Impl> impl_;
};

// Turns a stream of token ids into text that is always valid UTF-8: bytes of a character split over
// several tokens are held back until the character is complete; bytes that can never form one become U+FFFD.
class Detokenizer {
 public:
  // `special`: render control tokens. `strip_space_prefix`: drop the leading space of the first text piece
  // when the vocabulary adds one in front of text (SPM), i.e. when the ids start at the beginning of a prompt.
  explicit Detokenizer(const Tokenizer& tokenizer, bool special = false, bool strip_space_prefix = false)
      : tokenizer_(tokenizer), special_(special), strip_space_(strip_space_prefix) {}
  // Text that became complete with this token (possibly empty).
  std::string push(TokenId id);
  // Whatever is still held back, with an unfinished character as U+FFFD. Resets the stream.
  std::string finish();

 private:
  std::string take_complete(bool at_end);

  const Tokenizer& tokenizer_;
  bool special_;
  bool strip_space_;
  bool first_ = true;
  std::string pending_;
};

}  // namespace sy::tok
