// Tokenizer behaviour beyond the conformance cases: special tokens, BOS/EOS flags, invalid UTF-8, the
// pre-tokenizer table, and the streaming detokenizer.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include "format/gguf_reader.h"
#include "support/test_support.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_support.h"

namespace sy::tok {
namespace {

Tokenizer open_tokenizer(const std::filesystem::path& path) {
  auto file = gguf::File::open(path);
  EXPECT_TRUE(file) << file.error().message;
  auto t = Tokenizer::from_gguf(*file);
  EXPECT_TRUE(t) << t.error().message;
  return std::move(*t);
}

Tokenizer tiny_bpe() {
  // Per test: tests run as parallel processes.
  const std::string name = testing::UnitTest::GetInstance()->current_test_info()->name();
  return open_tokenizer(
      test::write_gguf(sy::test::scratch_dir("tokenizer_tiny_bpe_" + name), "v.gguf", test::tiny_bpe_metadata()));
}

std::vector<TokenId> encode(const Tokenizer& t, std::string_view text, EncodeOptions o) {
  auto ids = t.encode(text, o);
  EXPECT_TRUE(ids) << ids.error().message;
  return ids ? *ids : std::vector<TokenId>{};
}

TEST(Tokenizer, MergesAndBosFlag) {
  const Tokenizer t = tiny_bpe();
  EXPECT_EQ(encode(t, "abc", {.add_special = false}), (std::vector<TokenId>{257}));
  EXPECT_EQ(encode(t, "abc", {.add_special = true}), (std::vector<TokenId>{258, 257}));
  EXPECT_EQ(encode(t, "", {.add_special = true}), (std::vector<TokenId>{258}));
  EXPECT_EQ(encode(t, "", {.add_special = false}), (std::vector<TokenId>{}));
  EXPECT_EQ(encode(t, "ba", {.add_special = false}), (std::vector<TokenId>{'b', 'a'}));
}

TEST(Tokenizer, ControlTokensOnlyWhenAskedUserDefinedAlways) {
  const Tokenizer t = tiny_bpe();
  const EncodeOptions plain{.add_special = false, .parse_special = false};
  const EncodeOptions special{.add_special = false, .parse_special = true};
  // "<|ctl|>" is control: text unless parse_special.
  EXPECT_EQ(encode(t, "<|ctl|>", special), (std::vector<TokenId>{258}));
  const auto as_text = encode(t, "<|ctl|>", plain);
  EXPECT_GT(as_text.size(), 1u);
  EXPECT_EQ(t.decode(as_text), "<|ctl|>");
  // "<user>" is user-defined: recognised either way, and in the middle of words.
  EXPECT_EQ(encode(t, "ab<user>ab", plain), (std::vector<TokenId>{256, 259, 256}));
  EXPECT_EQ(encode(t, "<|ctl|><user>", special), (std::vector<TokenId>{258, 259}));
  // Control tokens render only when asked.
  EXPECT_EQ(t.token_to_piece(258, true), "<|ctl|>");
  EXPECT_EQ(t.token_to_piece(258, false), "");
  EXPECT_EQ(t.token_to_piece(-1), "");
  EXPECT_EQ(t.token_to_piece(100000), "");
}

TEST(Tokenizer, InvalidUtf8IsTokenizedAsReplacementCharacters) {
  const Tokenizer t = tiny_bpe();
  const auto ids = encode(t,
                          "a\xFF\xC0"
                          "b",
                          {.add_special = false});
  EXPECT_EQ(t.decode(ids),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
}

TEST(Tokenizer, StreamingDetokenizerHoldsBackSplitCharacters) {
  const Tokenizer t = tiny_bpe();
  // With only byte tokens, the 4-byte emoji arrives one byte per token.
  const auto ids = encode(t, "x\xF0\x9F\xA6\x99y", {.add_special = false});
  ASSERT_EQ(ids.size(), 6u);
  Detokenizer d(t);
  EXPECT_EQ(d.push(ids[0]), "x");
  EXPECT_EQ(d.push(ids[1]), "");
  EXPECT_EQ(d.push(ids[2]), "");
  EXPECT_EQ(d.push(ids[3]), "");
  EXPECT_EQ(d.push(ids[4]), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(d.push(ids[5]), "y");
  EXPECT_EQ(d.finish(), "");
  // A character cut off at the end becomes U+FFFD; a byte that cannot start one is replaced at once.
  EXPECT_EQ(d.push(ids[1]), "");
  EXPECT_EQ(d.push(ids[2]), "");
  EXPECT_EQ(d.finish(), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(d.push(ids[3]), "\xEF\xBF\xBD");
  // Control tokens are rendered only by a detokenizer asked to.
  EXPECT_EQ(d.push(258), "");
  Detokenizer special(t, /*special=*/true);
  EXPECT_EQ(special.push(258), "<|ctl|>");
}

TEST(Tokenizer, SentencePieceSpacePrefixAndBos) {
  const Tokenizer t = open_tokenizer(sy::test::conformance_dir() / "tokenizer" / "ggml-vocab-llama-spm.gguf");
  const auto with_bos = encode(t, "Hello world", {.add_special = true});
  ASSERT_FALSE(with_bos.empty());
  EXPECT_EQ(with_bos.front(), 1);  // <s>
  EXPECT_EQ(t.token_to_piece(with_bos[1]), " Hello");
  EXPECT_EQ(t.decode(with_bos, /*special=*/false), "Hello world");
  // A special token starts a new fragment, which gets its own space prefix (as llama.cpp does).
  const auto parsed = encode(t, "</s>Hi", {.add_special = false, .parse_special = true});
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0], 2);
  EXPECT_EQ(t.token_to_piece(parsed[1]), " Hi");
  // Byte fallback for a character the vocabulary lacks.
  const auto bytes = encode(t, "\xF0\x9F\xA6\x99", {.add_special = false});
  EXPECT_EQ(t.decode(bytes), "\xF0\x9F\xA6\x99");
}

// SentencePiece writes a space as U+2581 before looking pieces up, so a U+2581 written in the text is the same
// piece as a space and decodes as one (llama.cpp gives the same ids and text). The tokenizer_encode fuzz target's
// round-trip property once expected the U+2581 back (tests/fuzz/regressions/tokenizer_encode/).
TEST(Tokenizer, SentencePieceReadsU2581AsASpace) {
  const Tokenizer t = open_tokenizer(sy::test::conformance_dir() / "tokenizer" / "ggml-vocab-llama-spm.gguf");
  const auto literal = encode(t,
                              "NNNNNNNNNn\xE2\x96\x81of\xE2\x96\x81"
                              "s",
                              {.add_special = false});
  EXPECT_EQ(literal, encode(t, "NNNNNNNNNn of s", {.add_special = false}));
  EXPECT_EQ(t.decode(literal), "NNNNNNNNNn of s");
}

TEST(Tokenizer, ByteTokensWithBadHexAreTheirText) {
  // A SentencePiece vocabulary whose "byte" token is not "<0xAB>" must load; the token stands for its text.
  test::Metadata md = {{"tokenizer.ggml.model", "llama"},
                       {"tokenizer.ggml.tokens", gguf::make_string_array({"<unk>", "<0xZZ>", "<0x41>",
                                                                          "\xE2\x96\x81"
                                                                          "b"})},
                       {"tokenizer.ggml.scores", gguf::make_array(std::vector<float>{0, 0, 0, -1})},
                       {"tokenizer.ggml.token_type", gguf::make_array(std::vector<int32_t>{2, 6, 6, 1})}};
  const Tokenizer t = open_tokenizer(test::write_gguf(sy::test::scratch_dir("tokenizer_bad_hex"), "v.gguf", md));
  EXPECT_EQ(t.token_to_piece(1), "<0xZZ>");
  EXPECT_EQ(t.token_to_piece(2), "A");
  // "▁A▁b": "▁b" merges; the lone "▁" has no byte tokens, so each of its bytes is <unk>; "A" is <0x41>.
  EXPECT_EQ(encode(t, "A b", {.add_special = false}), (std::vector<TokenId>{0, 0, 0, 2, 3}));
}

TEST(PreTokenizers, EveryTableEntryCompilesAndCoversItsInput) {
  // A line of multi-byte text, which clang-format 14 re-splits differently on every run: kept as written.
  // clang-format off
  const std::string text =
      "Hello, World! It's 2026: 12345 apples\t\n\n  über Straße 你好世界 こんにちは 🦙🦙  x'LL\r\n  end   ";
  // clang-format on
  for (const PreTokenizerSpec& spec : pre_tokenizer_specs()) {
    SCOPED_TRACE(std::string(spec.name));
    auto pre = PreTokenizer::create(spec);
    ASSERT_TRUE(pre) << pre.error().message;
    std::vector<std::string_view> pieces;
    ASSERT_TRUE(pre->split(text, pieces));
    std::string joined;
    for (auto p : pieces) {
      EXPECT_FALSE(p.empty());
      EXPECT_TRUE(is_valid_utf8(p));
      joined += p;
    }
    EXPECT_EQ(joined, text);
    EXPECT_EQ(find_pre_tokenizer(spec.name), &spec);
  }
  EXPECT_EQ(find_pre_tokenizer("llama3"), find_pre_tokenizer("llama-bpe"));
  EXPECT_EQ(find_pre_tokenizer("nope"), nullptr);
}

TEST(PreTokenizers, Qwen2SplitsDigitsAndContractions) {
  auto pre = PreTokenizer::create(*find_pre_tokenizer("qwen2"));
  ASSERT_TRUE(pre);
  std::vector<std::string_view> pieces;
  ASSERT_TRUE(pre->split("I'LL pay 123 now", pieces));
  EXPECT_EQ(pieces, (std::vector<std::string_view>{"I", "'LL", " pay", " ", "1", "2", "3", " now"}));
}

}  // namespace
}  // namespace sy::tok
