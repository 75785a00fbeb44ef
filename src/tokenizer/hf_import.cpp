#include "tokenizer/hf_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "format/gguf_writer.h"
#include "tokenizer/pre_tokenizer.h"

namespace sy::tok {
namespace {

using nlohmann::json;

// tokenizer.json files of real models are tens of MB; anything past this is not a tokenizer.
constexpr size_t kMaxJsonBytes = 512u << 20;

// An added token's id may leave a gap after the tokens before it (filled with unused padding), but not one
// past this many ids: a forged id would otherwise make millions of padding tokens out of a few bytes.
constexpr int64_t kMaxIdGap = 1 << 16;

Result<json> parse_json(const std::string& text, const std::filesystem::path& path) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(ErrorCode::kInvalidInput, "{}: not valid JSON", path.string());
  return j;
}

// Same rule as llama.cpp's converter: some models mark obvious control tokens as not special.
bool looks_special(const std::string& t) {
  const auto wrapped = [&](std::string_view open, std::string_view close) {
    return t.size() >= open.size() + close.size() && t.starts_with(open) && t.ends_with(close);
  };
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || wrapped("<|", "|>") ||
         wrapped("<｜", "｜>") || wrapped("<unused", ">");
}

// The pre-tokenizer's regexes in order, or an error when it is not a shape we can express.
Result<std::vector<std::string>> pre_tokenizer_patterns(const json& pre, const std::string& source) {
  std::vector<std::string> patterns;
  bool byte_level = false;
  std::vector<const json*> steps;
  if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers") &&
      pre["pretokenizers"].is_array()) {
    for (const auto& s : pre["pretokenizers"]) steps.push_back(&s);
  } else if (pre.is_object()) {
    steps.push_back(&pre);
  }
  for (const json* s : steps) {
    const std::string type = s->is_object() ? s->value("type", "") : "";
    if (type == "Split") {
      if (!s->contains("pattern"))
        return fail(ErrorCode::kInvalidInput, "{}: a Split pre-tokenizer without a pattern", source);
      const json& pat = s->at("pattern");
      if (!pat.is_object() || !pat.contains("Regex") || !pat["Regex"].is_string() ||
          s->value("behavior", "") != "Isolated" || s->value("invert", false))
        return fail(ErrorCode::kUnsupported, "{}: a Split pre-tokenizer other than an isolated regex split", source);
      patterns.push_back(pat["Regex"].get<std::string>());
    } else if (type == "ByteLevel") {
      byte_level = true;
      if (s->value("add_prefix_space", false))
        return fail(ErrorCode::kUnsupported, "{}: ByteLevel with add_prefix_space is not supported", source);
      // use_regex: ByteLevel splits with GPT-2's regex itself.
      if (s->value("use_regex", true)) patterns.push_back(std::string(find_pre_tokenizer("gpt-2")->hf_patterns[0]));
    } else {
      return fail(ErrorCode::kUnsupported, "{}: pre-tokenizer step '{}' is not supported (byte-level BPE only)", source,
                  type);
    }
  }
  if (!byte_level)
    return fail(ErrorCode::kUnsupported, "{}: not a byte-level BPE tokenizer (no ByteLevel pre-tokenizer)", source);
  return patterns;
}

// A special token named in tokenizer_config.json: a string or {"content": ...}.
std::optional<std::string> config_token(const json& config, const char* key) {
  if (!config.contains(key)) return std::nullopt;
  const json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return std::nullopt;
}

Result<HfImport> import_checked(const HfTokenizerFiles& files, const HfImportOptions& options);

}  // namespace

Result<HfImport> import_hf_tokenizer(const std::filesystem::path& dir, const HfImportOptions& options) {
  HfTokenizerFiles files{.dir = dir};
  auto tokenizer_json = read_file(dir / "tokenizer.json", "tokenizer file", kMaxJsonBytes);
  if (!tokenizer_json) return tl::unexpected(tokenizer_json.error());
  files.tokenizer_json = std::move(*tokenizer_json);
  if (std::filesystem::exists(dir / "tokenizer_config.json")) {
    auto text = read_file(dir / "tokenizer_config.json", "tokenizer file", kMaxJsonBytes);
    if (!text) return tl::unexpected(text.error());
    files.tokenizer_config_json = std::move(*text);
  }
  if (std::filesystem::exists(dir / "chat_template.jinja")) {
    auto text = read_file(dir / "chat_template.jinja", "chat template", kMaxJsonBytes);
    if (!text) return tl::unexpected(text.error());
    files.chat_template = std::move(*text);
  }
  return import_hf_tokenizer(files, options);
}

Result<HfImport> import_hf_tokenizer(const HfTokenizerFiles& files, const HfImportOptions& options) {
  // Shapes are checked where it matters for the message; a value of an unexpected JSON type elsewhere makes
  // nlohmann::json throw, which becomes an error naming the file here.
  try {
    return import_checked(files, options);
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::kInvalidInput, "{}: unexpected JSON value: {}", (files.dir / "tokenizer.json").string(),
                e.what());
  }
}

namespace {

Result<HfImport> import_checked(const HfTokenizerFiles& files, const HfImportOptions& options) {
  const auto tj_path = files.dir / "tokenizer.json";
  const std::string source = tj_path.string();
  auto tj = parse_json(files.tokenizer_json, tj_path);
  if (!tj) return tl::unexpected(tj.error());
  if (!tj->is_object() || !(*tj).contains("model") || !(*tj)["model"].is_object())
    return fail(ErrorCode::kInvalidInput, "{}: no 'model' object", source);
  const json& model = (*tj)["model"];
  if (model.value("type", "") != "BPE")
    return fail(ErrorCode::kUnsupported, "{}: model type '{}' is not supported (BPE is)", source,
                model.value("type", "?"));
  if (model.value("byte_fallback", false))
    return fail(ErrorCode::kUnsupported, "{}: BPE with byte_fallback (SentencePiece-style) is not supported", source);

  HfImport result;
  Vocab& v = result.vocab;
  v.kind = VocabKind::kBpe;
  v.model = "gpt2";

  // Tokens: the model's vocab, then added tokens (which may reuse or extend ids); gaps become unused padding.
  if (!model.contains("vocab") || !model["vocab"].is_object())
    return fail(ErrorCode::kInvalidInput, "{}: model.vocab is not an object", source);
  std::vector<std::optional<std::string>> texts;
  std::vector<TokenType> types;
  // Ids run up to the tokens the file names plus a bounded gap (kMaxIdGap) of padding.
  const bool has_added = tj->contains("added_tokens") && (*tj)["added_tokens"].is_array();
  const auto n_named = static_cast<int64_t>(model["vocab"].size() + (has_added ? (*tj)["added_tokens"].size() : 0));
  const int64_t id_end = std::min(static_cast<int64_t>(kMaxVocabTokens), n_named + kMaxIdGap);
  const auto place = [&](int64_t id, const std::string& text, TokenType type, const char* where) -> Status {
    if (id < 0 || id >= id_end)
      return fail(ErrorCode::kOutOfRange,
                  "{}: {} token '{}' has id {}, outside [0, {}) (the {} tokens the file names, plus at most {} ids of "
                  "padding, at most {} in all)",
                  source, where, text, id, id_end, n_named, kMaxIdGap, kMaxVocabTokens);
    const auto i = static_cast<size_t>(id);
    if (i >= texts.size()) {
      texts.resize(i + 1);
      types.resize(i + 1, TokenType::kNormal);
    }
    texts[i] = text;
    types[i] = type;
    return {};
  };
  for (const auto& [text, id] : model["vocab"].items()) {
    if (!id.is_number_integer())
      return fail(ErrorCode::kInvalidInput, "{}: vocab id of '{}' is not an integer", source, text);
    if (auto st = place(id.get<int64_t>(), text, TokenType::kNormal, "vocab"); !st) return tl::unexpected(st.error());
  }
  if (has_added) {
    for (const auto& a : (*tj)["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
          !a["content"].is_string())
        return fail(ErrorCode::kInvalidInput, "{}: an added token without integer id and string content", source);
      const std::string content = a["content"].get<std::string>();
      const bool special = a.value("special", false) || looks_special(content);
      if (auto st =
              place(a["id"].get<int64_t>(), content, special ? TokenType::kControl : TokenType::kUserDefined, "added");
          !st)
        return tl::unexpected(st.error());
      if (a.value("lstrip", false) || a.value("rstrip", false))
        result.warnings.push_back(fmt::format("added token '{}' strips spaces around it; GGUF cannot say so", content));
    }
  }
  v.tokens.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i]) {
      v.tokens.push_back(std::move(*texts[i]));
      v.types.push_back(types[i]);
    } else {
      v.tokens.push_back(fmt::format("[PAD{}]", i));
      v.types.push_back(TokenType::kUnused);
    }
  }

  // Merges: "a b" strings (older files) or ["a", "b"] pairs.
  if (!model.contains("merges") || !model["merges"].is_array())
    return fail(ErrorCode::kInvalidInput, "{}: model.merges is not an array", source);
  v.merges.reserve(model["merges"].size());
  for (size_t r = 0; r < model["merges"].size(); ++r) {
    const json& m = model["merges"][r];
    if (m.is_string()) {
      v.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      const std::string a = m[0].get<std::string>(), b = m[1].get<std::string>();
      if (a.empty() || b.empty() || a.find(' ') != std::string::npos || b.find(' ') != std::string::npos)
        return fail(ErrorCode::kUnsupported, "{}: merge {} has a part with a space, which GGUF merges cannot spell",
                    source, r);
      v.merges.push_back(a + " " + b);
    } else {
      return fail(ErrorCode::kInvalidInput, "{}: merge {} is neither \"a b\" nor [\"a\", \"b\"]", source, r);
    }
  }

  // Pre-tokenizer: recognised by its regexes.
  if (options.pre) {
    if (!find_pre_tokenizer(*options.pre))
      return fail(ErrorCode::kInvalidInput, "unknown pre-tokenizer '{}'", *options.pre);
    v.pre = *options.pre;
  } else {
    auto patterns = pre_tokenizer_patterns(tj->value("pre_tokenizer", json()), source);
    if (!patterns) return tl::unexpected(patterns.error());
    for (const auto& spec : pre_tokenizer_specs()) {
      if (spec.hf_patterns.size() != patterns->size()) continue;
      bool same = true;
      for (size_t i = 0; i < patterns->size() && same; ++i) same = spec.hf_patterns[i] == (*patterns)[i];
      if (same) {
        v.pre = std::string(spec.name);
        break;
      }
    }
    if (v.pre.empty())
      return fail(ErrorCode::kUnsupported,
                  "{}: the pre-tokenizer's regexes match no known pre-tokenizer (first: '{}'); name one with --pre",
                  source, patterns->empty() ? std::string() : patterns->front());
  }
  if (model.value("ignore_merges", false) != find_pre_tokenizer(v.pre)->ignore_merges)
    result.warnings.push_back(fmt::format("model.ignore_merges is {} but pre-tokenizer '{}' implies the opposite",
                                          model.value("ignore_merges", false), v.pre));
  if (tj->contains("normalizer") && (*tj)["normalizer"].is_object()) {
    const json& n = (*tj)["normalizer"];
    const bool empty_sequence = n.value("type", "") == "Sequence" && n.contains("normalizers") &&
                                n["normalizers"].is_array() && n["normalizers"].empty();
    if (!empty_sequence)
      result.warnings.push_back(
          fmt::format("normalizer '{}' is not applied (GGUF vocabularies have none)", n.value("type", "?")));
  }

  // Special tokens and flags from tokenizer_config.json, then the post-processor's template.
  json config = json::object();
  if (files.tokenizer_config_json) {
    auto c = parse_json(*files.tokenizer_config_json, files.dir / "tokenizer_config.json");
    if (!c) return tl::unexpected(c.error());
    if (c->is_object()) config = std::move(*c);
  }
  v.token_ids.clear();  // finish() rebuilds it; the config's token names are looked up before that
  for (size_t i = 0; i < v.tokens.size(); ++i) v.token_ids[v.tokens[i]] = static_cast<TokenId>(i);
  const auto id_of = [&](const char* key) -> Result<std::optional<TokenId>> {
    auto text = config_token(config, key);
    if (!text) return std::optional<TokenId>{};
    auto id = v.find(*text);
    if (!id) return fail(ErrorCode::kInvalidInput, "tokenizer_config.json: {} '{}' is not a token", key, *text);
    return std::optional<TokenId>{*id};
  };
  for (auto [key, slot] : {std::pair{"bos_token", &v.special.bos},
                           {"eos_token", &v.special.eos},
                           {"pad_token", &v.special.pad},
                           {"unk_token", &v.special.unk}}) {
    auto id = id_of(key);
    if (!id) return tl::unexpected(id.error());
    *slot = *id;
  }
  // A TemplateProcessing post-processor that starts (ends) with a special token adds BOS (EOS).
  if (tj->contains("post_processor") && (*tj)["post_processor"].is_object()) {
    const json& pp = (*tj)["post_processor"];
    std::vector<const json*> procs;
    if (pp.value("type", "") == "Sequence" && pp.contains("processors") && pp["processors"].is_array()) {
      for (const auto& p : pp["processors"]) procs.push_back(&p);
    } else {
      procs.push_back(&pp);
    }
    for (const json* p : procs) {
      if (!p->is_object() || p->value("type", "") != "TemplateProcessing" || !p->contains("single") ||
          !(*p)["single"].is_array() || (*p)["single"].empty())
        continue;
      const json& single = (*p)["single"];
      v.add_bos = single.front().contains("SpecialToken");
      v.add_eos = single.back().contains("SpecialToken");
    }
  }
  if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean())
    v.add_bos = config["add_bos_token"].get<bool>();
  if (config.contains("add_eos_token") && config["add_eos_token"].is_boolean())
    v.add_eos = config["add_eos_token"].get<bool>();
  if (v.add_bos && !v.special.bos) {
    result.warnings.push_back("add_bos_token is set but no bos_token is named; not adding BOS");
    v.add_bos = false;
  }
  if (v.add_eos && !v.special.eos) {
    result.warnings.push_back("add_eos_token is set but no eos_token is named; not adding EOS");
    v.add_eos = false;
  }

  // Chat template: chat_template.jinja beside the config wins (newer exports keep it there).
  if (files.chat_template) {
    v.chat_template = *files.chat_template;
  } else if (config.contains("chat_template")) {
    const json& t = config["chat_template"];
    if (t.is_string()) {
      v.chat_template = t.get<std::string>();
    } else if (t.is_array()) {
      // A list of named templates: take "default", else the first.
      for (const auto& named : t) {
        if (!named.is_object() || !named.contains("template") || !named["template"].is_string()) continue;
        if (!v.chat_template || named.value("name", "") == "default")
          v.chat_template = named["template"].get<std::string>();
      }
    }
  }

  if (auto st = v.finish(source); !st) return tl::unexpected(st.error());
  return result;
}

}  // namespace

Status write_vocab_gguf(const Vocab& vocab, const std::filesystem::path& path, const std::string& name) {
  gguf::Writer w;
  w.set("general.type", "vocab");
  w.set("general.name", name);
  w.set("tokenizer.ggml.model", vocab.model);
  w.set("tokenizer.ggml.pre", vocab.pre);
  w.set("tokenizer.ggml.tokens", gguf::make_string_array(vocab.tokens));
  std::vector<int32_t> types;
  types.reserve(vocab.types.size());
  for (TokenType t : vocab.types) types.push_back(static_cast<int32_t>(t));
  w.set("tokenizer.ggml.token_type", gguf::make_array(types));
  if (!vocab.scores.empty()) w.set("tokenizer.ggml.scores", gguf::make_array(vocab.scores));
  if (!vocab.merges.empty()) w.set("tokenizer.ggml.merges", gguf::make_string_array(vocab.merges));
  const std::pair<const char*, std::optional<TokenId>> ids[] = {
      {"tokenizer.ggml.bos_token_id", vocab.special.bos},     {"tokenizer.ggml.eos_token_id", vocab.special.eos},
      {"tokenizer.ggml.eot_token_id", vocab.special.eot},     {"tokenizer.ggml.unknown_token_id", vocab.special.unk},
      {"tokenizer.ggml.padding_token_id", vocab.special.pad}, {"tokenizer.ggml.seperator_token_id", vocab.special.sep},
      {"tokenizer.ggml.mask_token_id", vocab.special.mask}};
  for (const auto& [key, id] : ids)
    if (id) w.set(key, static_cast<uint32_t>(*id));
  w.set("tokenizer.ggml.add_bos_token", vocab.add_bos);
  w.set("tokenizer.ggml.add_eos_token", vocab.add_eos);
  if (vocab.kind == VocabKind::kSpm) w.set("tokenizer.ggml.add_space_prefix", vocab.add_space_prefix);
  if (vocab.chat_template) w.set("tokenizer.chat_template", *vocab.chat_template);
  if (auto st = w.begin(path); !st) return st;
  return w.finish();
}

}  // namespace sy::tok
