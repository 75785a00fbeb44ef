// The Hugging Face importer on small synthetic tokenizer.json files: what it writes, and its errors.
#include "tokenizer/hf_import.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "format/gguf_reader.h"
#include "support/test_support.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"

namespace sy::tok {
namespace {

using nlohmann::json;

// A byte-level BPE tokenizer.json: the 256 byte symbols, "ab", "abc", and two added tokens.
json tiny_tokenizer_json() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level_symbols()[b]] = b;
  vocab["ab"] = 256;
  vocab["abc"] = 257;
  json j;
  j["model"] = {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({"a b", json::array({"ab", "c"})})}};
  j["added_tokens"] = json::array({{{"id", 258}, {"content", "<|endoftext|>"}, {"special", true}},
                                   {{"id", 261}, {"content", "<think>"}, {"special", false}}});
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       json::array(
           {{{"type", "Split"},
             {"pattern",
              {{"Regex",
                "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
             {"behavior", "Isolated"},
             {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}};
  return j;
}

std::filesystem::path write_dir(const std::string& name, const json& tokenizer, const json* config = nullptr) {
  const auto dir = sy::test::scratch_dir(name);
  std::ofstream(dir / "tokenizer.json") << tokenizer.dump();
  if (config) std::ofstream(dir / "tokenizer_config.json") << config->dump();
  return dir;
}

void expect_error(const std::filesystem::path& dir, ErrorCode code, const std::string& needle) {
  auto r = import_hf_tokenizer(dir);
  ASSERT_FALSE(r) << "expected an error mentioning " << needle;
  EXPECT_EQ(r.error().code, code) << r.error().message;
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

TEST(HfImport, WritesAVocabularyThatTokenizes) {
  const json config = {{"bos_token", "<|endoftext|>"},
                       {"eos_token", {{"content", "<|endoftext|>"}}},
                       {"add_bos_token", true},
                       {"chat_template", "{{ messages }}"}};
  const auto dir = write_dir("hf_import_ok", tiny_tokenizer_json(), &config);
  auto r = import_hf_tokenizer(dir);
  ASSERT_TRUE(r) << r.error().message;
  const Vocab& v = r->vocab;
  EXPECT_EQ(v.pre, "qwen2");
  ASSERT_EQ(v.size(), 262u);  // ids 259 and 260 are gaps
  EXPECT_EQ(v.tokens[259], "[PAD259]");
  EXPECT_EQ(v.types[259], TokenType::kUnused);
  EXPECT_EQ(v.types[258], TokenType::kControl);
  EXPECT_EQ(v.types[261], TokenType::kUserDefined);
  EXPECT_EQ(v.merges, (std::vector<std::string>{"a b", "ab c"}));
  EXPECT_EQ(v.special.bos, 258);
  EXPECT_EQ(v.special.eos, 258);
  EXPECT_TRUE(v.add_bos);
  EXPECT_EQ(v.chat_template, "{{ messages }}");

  const auto out = dir / "vocab.gguf";
  ASSERT_TRUE(write_vocab_gguf(v, out, "tiny"));
  auto file = gguf::File::open(out);
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file->tensors().size(), 0u);
  ASSERT_NE(file->find("tokenizer.chat_template"), nullptr);
  auto t = Tokenizer::from_gguf(*file);
  ASSERT_TRUE(t) << t.error().message;
  auto ids = t->encode("abc<think>", {.add_special = true});
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<TokenId>{258, 257, 261}));
}

TEST(HfImport, ChatTemplateFileAndNamedTemplates) {
  const json config = {{"chat_template", json::array({{{"name", "tool_use"}, {"template", "T"}},
                                                      {{"name", "default"}, {"template", "D"}}})}};
  const auto dir = write_dir("hf_import_named", tiny_tokenizer_json(), &config);
  auto r = import_hf_tokenizer(dir);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->vocab.chat_template, "D");
  std::ofstream(dir / "chat_template.jinja") << "J";
  r = import_hf_tokenizer(dir);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->vocab.chat_template, "J");
}

TEST(HfImport, Errors) {
  expect_error(sy::test::scratch_dir("hf_import_empty"), ErrorCode::kIo, "tokenizer.json");

  auto dir = sy::test::scratch_dir("hf_import_badjson");
  std::ofstream(dir / "tokenizer.json") << "{\"model\": [";
  expect_error(dir, ErrorCode::kInvalidInput, "not valid JSON");

  json j = tiny_tokenizer_json();
  j["model"]["type"] = "WordPiece";
  expect_error(write_dir("hf_import_wordpiece", j), ErrorCode::kUnsupported, "'WordPiece'");

  j = tiny_tokenizer_json();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+";
  expect_error(write_dir("hf_import_regex", j), ErrorCode::kUnsupported, "--pre");

  j = tiny_tokenizer_json();
  j["pre_tokenizer"] = {{"type", "Metaspace"}};
  expect_error(write_dir("hf_import_metaspace", j), ErrorCode::kUnsupported, "Metaspace");

  j = tiny_tokenizer_json();
  j["model"]["vocab"]["zz"] = -3;
  expect_error(write_dir("hf_import_negative", j), ErrorCode::kOutOfRange, "id -3");

  j = tiny_tokenizer_json();
  j["model"]["merges"].push_back("ab q\xC4\xA0x");
  expect_error(write_dir("hf_import_merge", j), ErrorCode::kInvalidInput, "names unknown token");

  j = tiny_tokenizer_json();
  j["model"]["merges"].push_back(json::array({"a b", "c"}));
  expect_error(write_dir("hf_import_merge_space", j), ErrorCode::kUnsupported, "space");

  j = tiny_tokenizer_json();
  j["added_tokens"][0]["special"] = "yes";
  expect_error(write_dir("hf_import_json_type", j), ErrorCode::kInvalidInput, "unexpected JSON value");

  j = tiny_tokenizer_json();
  j["pre_tokenizer"]["pretokenizers"][0].erase("pattern");
  expect_error(write_dir("hf_import_no_pattern", j), ErrorCode::kInvalidInput, "without a pattern");

  const json config = {{"eos_token", "<nope>"}};
  expect_error(write_dir("hf_import_eos", tiny_tokenizer_json(), &config), ErrorCode::kInvalidInput, "'<nope>'");
}

}  // namespace
}  // namespace sy::tok
