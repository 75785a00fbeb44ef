#include "tokenizer/tokenizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "format/gguf_reader.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/spm.h"
#include "tokenizer/utf8.h"

namespace sy::tok {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// Text cut at special tokens: either raw text or one token.
struct Fragment {
  std::string_view text;
  TokenId token = -1;  // >= 0: this fragment is a special token
};

// Finds special tokens in text. Leftmost match wins, and among matches starting at the same place the longest
// (what Hugging Face's added-token splitter does).
class SpecialMatcher {
 public:
  void build(const Vocab& vocab, bool control) {
    for (size_t id = 0; id < vocab.size(); ++id) {
      const TokenType t = vocab.types[id];
      const bool wanted =
          t == TokenType::kUserDefined || (control && (t == TokenType::kControl || t == TokenType::kUnknown));
      if (!wanted || vocab.tokens[id].empty()) continue;
      by_first_[static_cast<uint8_t>(vocab.tokens[id][0])].push_back({vocab.tokens[id], static_cast<TokenId>(id)});
    }
    for (auto& list : by_first_)
      std::stable_sort(list.begin(), list.end(),
                       [](const Entry& a, const Entry& b) { return a.text.size() > b.text.size(); });
  }

  void split(std::string_view text, std::vector<Fragment>& out) const {
    size_t emitted = 0;
    for (size_t pos = 0; pos < text.size(); ++pos) {
      const auto& list = by_first_[static_cast<uint8_t>(text[pos])];
      for (const Entry& e : list) {
        if (text.compare(pos, e.text.size(), e.text) != 0) continue;
        if (pos > emitted) out.push_back({text.substr(emitted, pos - emitted)});
        out.push_back({{}, e.id});
        pos += e.text.size();
        emitted = pos;
        --pos;  // the loop increments
        break;
      }
    }
    if (emitted < text.size()) out.push_back({text.substr(emitted)});
  }

 private:
  struct Entry {
    std::string_view text;  // points into the Vocab, which outlives the matcher
    TokenId id;
  };
  std::array<std::vector<Entry>, 256> by_first_;
};

std::optional<uint8_t> parse_byte_token(std::string_view text) {
  if (text.size() != 6 || !text.starts_with("<0x") || text.back() != '>') return std::nullopt;
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(text[3]), lo = hex(text[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

}  // namespace

struct Tokenizer::Impl {
  std::optional<PreTokenizer> pre;  // BPE only
  bool ignore_merges = false;
  std::vector<TokenId> byte_tokens = std::vector<TokenId>(256, -1);  // SPM byte fallback
  SpecialMatcher user_defined_only, with_control;
  std::vector<std::string> pieces;  // token_to_piece(id, special=true), decoded once
};

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::create(Vocab vocab) {
  Tokenizer t;
  auto impl = std::make_unique<Impl>();
  if (vocab.kind == VocabKind::kBpe) {
    const PreTokenizerSpec* spec = find_pre_tokenizer(vocab.pre);
    if (!spec) return fail(ErrorCode::kUnsupported, "tokenizer.ggml.pre '{}' is not a known pre-tokenizer", vocab.pre);
    auto pre = PreTokenizer::create(*spec);
    if (!pre) return tl::unexpected(pre.error());
    impl->pre.emplace(std::move(*pre));
    impl->ignore_merges = spec->ignore_merges;
  } else {
    for (int b = 0; b < 256; ++b)
      if (auto id = vocab.find(fmt::format("<0x{:02X}>", b))) impl->byte_tokens[b] = *id;
  }
  impl->user_defined_only.build(vocab, false);
  impl->with_control.build(vocab, true);

  impl->pieces.resize(vocab.size());
  for (size_t id = 0; id < vocab.size(); ++id) {
    const std::string& text = vocab.tokens[id];
    std::string& piece = impl->pieces[id];
    switch (vocab.types[id]) {
      case TokenType::kByte:
        // "<0xAB>" stands for the byte 0xAB; a byte token spelled otherwise stands for its text.
        if (auto byte = parse_byte_token(text)) {
          piece += static_cast<char>(*byte);
        } else {
          piece = text;
        }
        break;
      case TokenType::kNormal:
      case TokenType::kUndefined:
        if (vocab.kind == VocabKind::kBpe) {
          byte_level_decode(text, piece);
        } else {
          for (size_t pos = 0; pos < text.size();) {
            if (text.compare(pos, kSpmSpace.size(), kSpmSpace) == 0) {
              piece += ' ';
              pos += kSpmSpace.size();
            } else {
              piece += text[pos++];
            }
          }
        }
        break;
      default: piece = text;  // control, user-defined, unknown, unused: their text as written
    }
  }
  t.vocab_ = std::make_unique<const Vocab>(std::move(vocab));
  t.impl_ = std::move(impl);
  return t;
}

Result<Tokenizer> Tokenizer::open(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file) return tl::unexpected(file.error());
  return from_gguf(*file);
}

Result<Tokenizer> Tokenizer::from_gguf(const gguf::File& file) {
  auto vocab = load_vocab(file);
  if (!vocab) return tl::unexpected(vocab.error());
  auto t = create(std::move(*vocab));
  if (!t) return fail(t.error().code, "{}: {}", file.source(), t.error().message);
  return t;
}

Result<std::vector<TokenId>> Tokenizer::encode(std::string_view raw, EncodeOptions options) const {
  const Vocab& v = *vocab_;
  const std::string text = sanitize_utf8(raw);
  std::vector<Fragment> fragments;
  (options.parse_special ? impl_->with_control : impl_->user_defined_only).split(text, fragments);

  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  if (options.add_special && v.add_bos) out.push_back(*v.special.bos);

  if (v.kind == VocabKind::kBpe) {
    BpeWordEncoder bpe(v, impl_->ignore_merges);
    std::vector<std::string_view> words;
    // Repeated words are common in real text; remembering their ids per call skips BPE for them. Keys view
    // `text`, which outlives the cache.
    std::unordered_map<std::string_view, std::pair<uint32_t, uint32_t>> cache;  // word -> ids in `out`
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        out.push_back(f.token);
        continue;
      }
      if (auto st = impl_->pre->split(f.text, words); !st) return tl::unexpected(st.error());
      for (std::string_view w : words) {
        if (auto it = cache.find(w); it != cache.end()) {
          const auto [first, count] = it->second;
          for (uint32_t i = 0; i < count; ++i) {
            const TokenId id = out[first + i];  // copied first: push_back may reallocate
            out.push_back(id);
          }
          continue;
        }
        const size_t before = out.size();
        bpe.encode(w, out);
        cache.emplace(w, std::pair{static_cast<uint32_t>(before), static_cast<uint32_t>(out.size() - before)});
      }
    }
  } else {
    SpmEncoder spm(v, impl_->byte_tokens);
    bool after_special = true;  // text right at the start or after a special token gets the space prefix
    std::string escaped;
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        out.push_back(f.token);
        after_special = true;
        continue;
      }
      escaped.clear();
      if (v.add_space_prefix && after_special) escaped += kSpmSpace;
      for (char c : f.text) {
        if (c == ' ') {
          escaped += kSpmSpace;
        } else {
          escaped += c;
        }
      }
      spm.encode(escaped, out);
      after_special = false;
    }
  }
  if (options.add_special && v.add_eos) out.push_back(*v.special.eos);
  return out;
}

std::string Tokenizer::token_to_piece(TokenId id, bool special) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_->size()) return {};
  const TokenType t = vocab_->types[static_cast<size_t>(id)];
  if (!special && (t == TokenType::kControl || t == TokenType::kUnknown)) return {};
  return impl_->pieces[static_cast<size_t>(id)];
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool special) const {
  Detokenizer d(*this, special, /*strip_space_prefix=*/true);
  std::string out;
  for (TokenId id : ids) out += d.push(id);
  out += d.finish();
  return out;
}

std::string Detokenizer::push(TokenId id) {
  std::string piece = tokenizer_.token_to_piece(id, special_);
  const Vocab& v = tokenizer_.vocab();
  if (first_ && !piece.empty() && v.types[static_cast<size_t>(id)] == TokenType::kNormal) {
    // The space an SPM vocabulary puts in front of the text is not part of the text.
    if (strip_space_ && v.kind == VocabKind::kSpm && v.add_space_prefix && piece[0] == ' ') piece.erase(0, 1);
    first_ = false;
  }
  pending_ += piece;
  return take_complete(false);
}

std::string Detokenizer::finish() {
  std::string out = take_complete(true);
  pending_.clear();
  first_ = true;
  return out;
}

std::string Detokenizer::take_complete(bool at_end) {
  const size_t n = at_end ? pending_.size() : complete_utf8_prefix(pending_);
  std::string out = sanitize_utf8(std::string_view(pending_).substr(0, n));
  pending_.erase(0, n);
  return out;
}

}  // namespace sy::tok
