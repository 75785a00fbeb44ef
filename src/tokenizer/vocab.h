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
  std::vector<float> scores;            // SPM only (empty for BPE)
  std::vector<std::string> merges;      // BPE, "left right", rank = index
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
  struct Merge {
    int32_t rank;
    TokenId result;  // the token the pair merges into, or -1 when the merged text is no token
  };
  std::unordered_map<std::string, TokenId, TextHash, std::equal_to<>> token_ids;  // a repeated text keeps its last id
  std::unordered_map<uint64_t, Merge> merge_table;  // (left id << 32 | right id) -> merge; parts are tokens

  size_t size() const { return tokens.size(); }
  std::optional<TokenId> find(std::string_view text) const;
  static uint64_t pair_key(TokenId left, TokenId right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  TokenType type(TokenId id) const { return types[static_cast<size_t>(id)]; }

  // Builds the lookups and checks everything that refers to something else: types and scores match the
  // token count, merges name known tokens, special ids are in range. `source` names the vocabulary in errors.
  Status finish(std::string_view source);
};

// Reads `tokenizer.ggml.*` from a GGUF file (model or vocabulary-only).
Result<Vocab> load_vocab(const gguf::File& file);

}  // namespace sy::tok
