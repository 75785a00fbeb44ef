// The vocabulary loader: a good file loads, and every kind of bad metadata gives an error that names it.
#include "tokenizer/vocab.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "format/gguf_reader.h"
#include "support/test_support.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_test_support.h"

namespace sy::tok {
namespace {

Result<Vocab> load(const test::Metadata& md) {
  // Tests run as parallel processes: the scratch directory is per test, the counter per call.
  static int n = 0;
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  const auto path =
      test::write_gguf(sy::test::scratch_dir(fmt::format("vocab_test_{}_{}", info->name(), n++)), "v.gguf", md);
  auto file = gguf::File::open(path);
  if (!file) return tl::unexpected(file.error());
  return load_vocab(*file);
}

void expect_error(const test::Metadata& md, ErrorCode code, const std::string& needle) {
  auto v = load(md);
  ASSERT_FALSE(v) << "expected an error mentioning " << needle;
  EXPECT_EQ(v.error().code, code) << v.error().message;
  EXPECT_NE(v.error().message.find(needle), std::string::npos) << v.error().message;
}

TEST(Vocab, LoadsTinyBpe) {
  auto v = load(test::tiny_bpe_metadata());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->kind, VocabKind::kBpe);
  EXPECT_EQ(v->size(), 260u);
  EXPECT_EQ(v->special.bos, 258);
  EXPECT_TRUE(v->add_bos);
  EXPECT_EQ(v->find("ab"), 256);
  EXPECT_EQ(v->merge_table.size(), 2u);
}

TEST(Vocab, MissingOrWrongKeys) {
  auto md = test::tiny_bpe_metadata();
  test::erase(md, "tokenizer.ggml.model");
  expect_error(md, ErrorCode::kNotFound, "tokenizer.ggml.model");

  md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.model", "t5");
  expect_error(md, ErrorCode::kUnsupported, "'t5'");

  md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.tokens", gguf::make_array(std::vector<int32_t>{1, 2}));
  expect_error(md, ErrorCode::kInvalidInput, "array of string");

  md = test::tiny_bpe_metadata();
  test::erase(md, "tokenizer.ggml.merges");
  expect_error(md, ErrorCode::kNotFound, "tokenizer.ggml.merges");

  md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.pre", uint32_t{3});
  expect_error(md, ErrorCode::kInvalidInput, "tokenizer.ggml.pre");
}

TEST(Vocab, InconsistentArrays) {
  auto md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.token_type", gguf::make_array(std::vector<int32_t>{1, 1, 1}));
  expect_error(md, ErrorCode::kInvalidInput, "3 token types for 260 tokens");

  md = test::tiny_bpe_metadata();
  std::vector<int32_t> types(260, 1);
  types[7] = 42;
  test::set(md, "tokenizer.ggml.token_type", gguf::make_array(types));
  expect_error(md, ErrorCode::kInvalidInput, "token_type[7] = 42");

  md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.model", "llama");  // SentencePiece needs scores
  expect_error(md, ErrorCode::kInvalidInput, "0 scores for 260 tokens");

  md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.tokens", gguf::make_string_array({}));
  test::erase(md, "tokenizer.ggml.token_type");
  expect_error(md, ErrorCode::kInvalidInput, "no tokens");
}

TEST(Vocab, BadMerges) {
  auto md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.merges", gguf::make_string_array({"a b", "ab zz"}));
  expect_error(md, ErrorCode::kInvalidInput, "merge 1 ('ab zz') names unknown token 'zz'");

  md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.merges", gguf::make_string_array({"ab"}));
  expect_error(md, ErrorCode::kInvalidInput, "merge 0 ('ab') is not two tokens");

  md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.merges", gguf::make_string_array({"a "}));
  expect_error(md, ErrorCode::kInvalidInput, "is not two tokens");
}

TEST(Vocab, SpecialIdsOutOfRange) {
  auto md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.eos_token_id", uint32_t{260});
  expect_error(md, ErrorCode::kOutOfRange, "'tokenizer.ggml.eos_token_id' = 260 is not a token id");

  md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.bos_token_id", int32_t{-5});
  expect_error(md, ErrorCode::kOutOfRange, "bos_token_id");

  md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.bos_token_id", "one");
  expect_error(md, ErrorCode::kInvalidInput, "must be an integer");

  md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.add_bos_token", "yes");
  expect_error(md, ErrorCode::kInvalidInput, "must be a bool");

  // add_bos without a BOS id: the flag is dropped rather than the file refused.
  md = test::tiny_bpe_metadata();
  test::erase(md, "tokenizer.ggml.bos_token_id");
  auto v = load(md);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_FALSE(v->add_bos);
}

TEST(Vocab, UnknownPreTokenizerIsAnErrorAtTokenizerCreation) {
  auto md = test::tiny_bpe_metadata();
  test::set(md, "tokenizer.ggml.pre", "no-such-pre");
  auto v = load(md);
  ASSERT_TRUE(v) << v.error().message;
  auto t = Tokenizer::create(std::move(*v));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(t.error().message.find("no-such-pre"), std::string::npos);
}

}  // namespace
}  // namespace sy::tok
