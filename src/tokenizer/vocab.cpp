#include "tokenizer/vocab.h"

#include <fmt/format.h>

#include <cmath>

#include "format/gguf_reader.h"

namespace sy::tok {
namespace {

using gguf::Array;
using gguf::Value;
using gguf::ValueType;

// One reader of `tokenizer.ggml.*` keys that names the file and key in every error.
class MetadataReader {
 public:
  explicit MetadataReader(const gguf::File& file) : file_(file) {}

  const Value* find(std::string_view key) const { return file_.find(key); }

  Result<std::string> string(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return fail(ErrorCode::kNotFound, "{}: missing metadata key '{}'", file_.source(), key);
    if (!v->as_string())
      return fail(ErrorCode::kInvalidInput, "{}: '{}' must be a string, is {}", file_.source(), key,
                  gguf::value_type_name(v->type()));
    return *v->as_string();
  }

  Result<const Array*> array(std::string_view key, ValueType elem, size_t max_items) const {
    const Value* v = find(key);
    if (!v) return fail(ErrorCode::kNotFound, "{}: missing metadata key '{}'", file_.source(), key);
    const Array* a = v->as_array();
    if (!a)
      return fail(ErrorCode::kInvalidInput, "{}: '{}' must be an array, is {}", file_.source(), key,
                  gguf::value_type_name(v->type()));
    if (!a->empty() && a->elem_type() != elem)
      return fail(ErrorCode::kInvalidInput, "{}: '{}' must be an array of {}, holds {}", file_.source(), key,
                  gguf::value_type_name(elem), gguf::value_type_name(a->elem_type()));
    if (a->size() > max_items)
      return fail(ErrorCode::kOutOfRange, "{}: '{}' has {} items, more than the {} allowed", file_.source(), key,
                  a->size(), max_items);
    return a;
  }

  Result<std::optional<bool>> flag(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::optional<bool>{};
    if (auto b = v->as_bool()) return std::optional<bool>{*b};
    return fail(ErrorCode::kInvalidInput, "{}: '{}' must be a bool, is {}", file_.source(), key,
                gguf::value_type_name(v->type()));
  }

  Result<std::optional<TokenId>> token_id(std::string_view key, size_t n_tokens) const {
    const Value* v = find(key);
    if (!v) return std::optional<TokenId>{};
    const auto i = v->as_int();
    if (!i) return fail(ErrorCode::kInvalidInput, "{}: '{}' must be an integer", file_.source(), key);
    // llama.cpp writes -1 (or u32 max) for "no such token" in some converters.
    if (*i == -1 || *i == 0xFFFFFFFFll) return std::optional<TokenId>{};
    if (*i < 0 || static_cast<uint64_t>(*i) >= n_tokens)
      return fail(ErrorCode::kOutOfRange, "{}: '{}' = {} is not a token id (vocabulary has {} tokens)", file_.source(),
                  key, *i, n_tokens);
    return std::optional<TokenId>{static_cast<TokenId>(*i)};
  }

 private:
  const gguf::File& file_;
};

}  // namespace

bool is_valid_token_type(int32_t value) { return value >= 0 && value <= 6; }

std::optional<TokenId> Vocab::find(std::string_view text) const {
  auto it = token_ids.find(text);
  if (it == token_ids.end()) return std::nullopt;
  return it->second;
}

Status Vocab::finish(std::string_view source) {
  if (tokens.empty()) return fail(ErrorCode::kInvalidInput, "{}: the vocabulary has no tokens", source);
  if (tokens.size() > kMaxVocabTokens)
    return fail(ErrorCode::kOutOfRange, "{}: {} tokens, more than the {} allowed", source, tokens.size(),
                kMaxVocabTokens);
  if (types.empty()) types.assign(tokens.size(), TokenType::kNormal);
  if (types.size() != tokens.size())
    return fail(ErrorCode::kInvalidInput, "{}: {} token types for {} tokens", source, types.size(), tokens.size());
  if (kind == VocabKind::kSpm && scores.size() != tokens.size())
    return fail(ErrorCode::kInvalidInput, "{}: {} scores for {} tokens", source, scores.size(), tokens.size());
  if (!scores.empty() && scores.size() != tokens.size())
    return fail(ErrorCode::kInvalidInput, "{}: {} scores for {} tokens", source, scores.size(), tokens.size());
  for (size_t i = 0; i < scores.size(); ++i)
    if (std::isnan(scores[i]))  // NaN has no order: merge priority would be undefined
      return fail(ErrorCode::kInvalidInput, "{}: the score of token {} is NaN", source, i);
  if (merges.size() > kMaxMerges)
    return fail(ErrorCode::kOutOfRange, "{}: {} merges, more than the {} allowed", source, merges.size(), kMaxMerges);

  token_ids.clear();
  token_ids.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].size() > kMaxTokenBytes)
      return fail(ErrorCode::kOutOfRange, "{}: token {} is {} bytes long, more than the {} allowed", source, i,
                  tokens[i].size(), kMaxTokenBytes);
    token_ids[tokens[i]] = static_cast<TokenId>(i);
  }

  merge_table.clear();
  merge_table.reserve(merges.size());
  std::string merged;
  for (size_t r = 0; r < merges.size(); ++r) {
    const std::string& m = merges[r];
    // The separator is the first space after the first character: a left part never starts with one.
    const size_t sep = m.find(' ', 1);
    if (m.empty() || sep == std::string::npos || sep + 1 >= m.size())
      return fail(ErrorCode::kInvalidInput, "{}: merge {} ('{}') is not two tokens separated by a space", source, r, m);
    const std::string_view left = std::string_view(m).substr(0, sep);
    const std::string_view right = std::string_view(m).substr(sep + 1);
    const auto left_id = find(left), right_id = find(right);
    if (!left_id)
      return fail(ErrorCode::kInvalidInput, "{}: merge {} ('{}') names unknown token '{}'", source, r, m, left);
    if (!right_id)
      return fail(ErrorCode::kInvalidInput, "{}: merge {} ('{}') names unknown token '{}'", source, r, m, right);
    merged.assign(left);
    merged += right;
    const TokenId result = find(merged).value_or(-1);
    merge_table.insert(*left_id, *right_id, {static_cast<int32_t>(r), result});
  }

  const auto check_id = [&](const std::optional<TokenId>& id, std::string_view what) -> Status {
    if (id && (*id < 0 || static_cast<size_t>(*id) >= tokens.size()))
      return fail(ErrorCode::kOutOfRange, "{}: {} id {} is out of range ({} tokens)", source, what, *id, tokens.size());
    return {};
  };
  for (auto [id, what] : {std::pair{special.bos, "BOS"},
                          {special.eos, "EOS"},
                          {special.eot, "EOT"},
                          {special.unk, "UNK"},
                          {special.pad, "padding"},
                          {special.sep, "separator"},
                          {special.mask, "mask"}})
    if (auto st = check_id(id, what); !st) return st;
  if (add_bos && !special.bos)
    return fail(ErrorCode::kInvalidInput, "{}: add_bos_token is true but there is no BOS token id", source);
  if (add_eos && !special.eos)
    return fail(ErrorCode::kInvalidInput, "{}: add_eos_token is true but there is no EOS token id", source);
  return {};
}

Result<Vocab> load_vocab(const gguf::File& file) {
  MetadataReader md(file);
  Vocab v;
  auto model = md.string("tokenizer.ggml.model");
  if (!model) return tl::unexpected(model.error());
  v.model = *model;
  if (v.model == "llama") {
    v.kind = VocabKind::kSpm;
  } else if (v.model == "gpt2") {
    v.kind = VocabKind::kBpe;
  } else {
    return fail(ErrorCode::kUnsupported, "{}: tokenizer.ggml.model '{}' is not supported (llama, gpt2 are)",
                file.source(), v.model);
  }
  v.pre = "default";
  if (md.find("tokenizer.ggml.pre")) {
    auto pre = md.string("tokenizer.ggml.pre");
    if (!pre) return tl::unexpected(pre.error());
    v.pre = *pre;
  }

  auto tokens = md.array("tokenizer.ggml.tokens", ValueType::kString, kMaxVocabTokens);
  if (!tokens) return tl::unexpected(tokens.error());
  if ((*tokens)->empty())
    return fail(ErrorCode::kInvalidInput, "{}: tokenizer.ggml.tokens is empty: the vocabulary has no tokens",
                file.source());
  v.tokens.reserve((*tokens)->size());
  for (const Value& t : (*tokens)->values()) v.tokens.push_back(*t.as_string());

  if (md.find("tokenizer.ggml.token_type")) {
    auto types = md.array("tokenizer.ggml.token_type", ValueType::kI32, kMaxVocabTokens);
    if (!types) return tl::unexpected(types.error());
    const std::span<const int32_t> type_ids = (*types)->numbers<int32_t>();  // an empty array may be of any type
    v.types.reserve(type_ids.size());
    for (size_t i = 0; i < type_ids.size(); ++i) {
      const int32_t t = type_ids[i];
      if (!is_valid_token_type(t))
        return fail(ErrorCode::kInvalidInput, "{}: tokenizer.ggml.token_type[{}] = {} is not a token type",
                    file.source(), i, t);
      v.types.push_back(static_cast<TokenType>(t));
    }
  }
  if (md.find("tokenizer.ggml.scores")) {
    auto scores = md.array("tokenizer.ggml.scores", ValueType::kF32, kMaxVocabTokens);
    if (!scores) return tl::unexpected(scores.error());
    const std::span<const float> scores_f32 = (*scores)->numbers<float>();  // an empty array may be of any type
    v.scores.assign(scores_f32.begin(), scores_f32.end());
  }
  if (v.kind == VocabKind::kBpe) {
    auto merges = md.array("tokenizer.ggml.merges", ValueType::kString, kMaxMerges);
    if (!merges) return tl::unexpected(merges.error());
    v.merges.reserve((*merges)->size());
    for (const Value& m : (*merges)->values()) v.merges.push_back(*m.as_string());
  }

  const size_t n = v.tokens.size();
  const std::pair<const char*, std::optional<TokenId>*> id_keys[] = {
      {"tokenizer.ggml.bos_token_id", &v.special.bos},     {"tokenizer.ggml.eos_token_id", &v.special.eos},
      {"tokenizer.ggml.eot_token_id", &v.special.eot},     {"tokenizer.ggml.unknown_token_id", &v.special.unk},
      {"tokenizer.ggml.padding_token_id", &v.special.pad}, {"tokenizer.ggml.seperator_token_id", &v.special.sep},
      {"tokenizer.ggml.mask_token_id", &v.special.mask}};
  for (auto [key, slot] : id_keys) {
    auto id = md.token_id(key, n);
    if (!id) return tl::unexpected(id.error());
    *slot = *id;
  }

  // Defaults follow llama.cpp: SentencePiece vocabularies add BOS and a leading space unless told otherwise.
  const bool spm = v.kind == VocabKind::kSpm;
  const std::tuple<const char*, bool*, bool> flags[] = {{"tokenizer.ggml.add_bos_token", &v.add_bos, spm},
                                                        {"tokenizer.ggml.add_eos_token", &v.add_eos, false},
                                                        {"tokenizer.ggml.add_space_prefix", &v.add_space_prefix, spm}};
  for (auto [key, slot, fallback] : flags) {
    auto f = md.flag(key);
    if (!f) return tl::unexpected(f.error());
    *slot = f->value_or(fallback);
  }
  if (spm && !v.special.unk) {
    // SentencePiece vocabularies without the key use id 0 for <unk>, as llama.cpp assumes.
    if (n > 0 && v.types.size() == n && v.types[0] == TokenType::kUnknown) v.special.unk = 0;
  }
  if (md.find("tokenizer.chat_template")) {
    auto tmpl = md.string("tokenizer.chat_template");
    if (!tmpl) return tl::unexpected(tmpl.error());
    v.chat_template = *tmpl;
  }
  // A BOS id the file does not name cannot be added: treat the flag as off rather than failing (llama.cpp
  // refuses such files; keeping them usable costs nothing).
  if (v.add_bos && !v.special.bos) v.add_bos = false;
  if (v.add_eos && !v.special.eos) v.add_eos = false;

  if (auto st = v.finish(file.source()); !st) return tl::unexpected(st.error());
  return v;
}

}  // namespace sy::tok
