// A tokenizer vocabulary as GGUF files store it (the `tokenizer.ggml.*` keys): token texts, types, scores,
// BPE merges, special-token ids and flags. Built from a GGUF file's metadata, validated where it enters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "tokenizer/merge_table.h"

namespace sy::gguf {
class File;
}

namespace sy::tok {

using TokenId = int32_t;

// Stored in files (`tokenizer.ggml.token_type`): explicit values, never renumbered.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,      // BOS, EOS, chat markers: only produced from text when special parsing is asked for
  kUserDefined = 4,  // added tokens that are always matched in text before the model sees it
  kUnused = 5,
  kByte = 6,  // SentencePiece byte-fallback tokens "<0xAB>"
};
bool is_valid_token_type(int32_t value);

// `tokenizer.ggml.model`.
enum class VocabKind {
  kSpm,  // "llama": SentencePiece, scores and byte fallback
  kBpe,  // "gpt2": byte-level BPE, merges by rank
};

// Limits that keep a hostile file from asking for absurd work or memory; real vocabularies are far below.
inline constexpr size_t kMaxVocabTokens = 4u << 20;
inline constexpr size_t kMaxMerges = 8u << 20;
inline constexpr size_t kMaxTokenBytes = 1u << 16;

struct SpecialIds {
  std::optional<TokenId> bos, eos, eot, unk, pad, sep, mask;
};

struct Vocab {
  VocabKind kind = VocabKind::kBpe;
  std::string model;  // tokenizer.ggml.model as written
  std::string pre;    // tokenizer.ggml.pre ("default" when absent)
  std::vector<std::string> tokens;
  std::vector<TokenType> types;
  std::vector<float> scores;        // SPM only (empty for BPE)
  std::vector<std::string> merges;  // BPE, "left right", rank = index
  SpecialIds special;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SPM: a leading "▁" before text that starts a fragment
  std::optional<std::string> chat_template;

  // Derived lookups (filled by finish()).
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Views into `tokens` (whose strings stay put when the Vocab moves; a Vocab is therefore not copyable).
  // A repeated text keeps its last id, as in llama.cpp.
  std::unordered_map<std::string_view, TokenId, TextHash, std::equal_to<>> token_ids;
  MergeTable merge_table;  // (left id, right id) -> rank and result; merge parts are always tokens

  size_t size() const { return tokens.size(); }
  Vocab() = default;
  Vocab(Vocab&&) noexcept = default;
  Vocab& operator=(Vocab&&) noexcept = default;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  std::optional<TokenId> find(std::string_view text) const;
  TokenType type(TokenId id) const { return types[static_cast<size_t>(id)]; }

  // Builds the lookups and checks everything that refers to something else: types and scores match the
  // token count, merges name known tokens, special ids are in range. `source` names the vocabulary in errors.
  Status finish(std::string_view source);
};

// Reads `tokenizer.ggml.*` from a GGUF file (model or vocabulary-only).
Result<Vocab> load_vocab(const gguf::File& file);

}  // namespace sy::tok
