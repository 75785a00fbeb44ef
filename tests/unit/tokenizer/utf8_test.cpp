#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

#include "tokenizer/byte_level.h"

namespace sy::tok {
namespace {

TEST(Utf8, DecodesAndRejectsWhatUtf8Forbids) {
  EXPECT_EQ(decode_utf8("A", 0).cp, 'A');
  const DecodedChar euro = decode_utf8("\xE2\x82\xAC", 0);
  EXPECT_TRUE(euro.valid);
  EXPECT_EQ(euro.cp, 0x20ACu);
  EXPECT_EQ(euro.len, 3u);
  EXPECT_EQ(decode_utf8("\xF0\x9F\xA6\x99", 0).cp, 0x1F999u);
  for (const char* bad : {"\x80", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\xFF"}) {
    const DecodedChar c = decode_utf8(bad, 0);
    EXPECT_FALSE(c.valid) << bad;
    EXPECT_EQ(c.len, 1u);
  }
}

TEST(Utf8, SanitizeReplacesEachBadByte) {
  EXPECT_EQ(sanitize_utf8("ok"), "ok");
  EXPECT_EQ(sanitize_utf8("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(sanitize_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(is_valid_utf8(sanitize_utf8("\xC0\xAF\xED\xA0\x80 x")));
}

TEST(Utf8, CompletePrefixHoldsBackOnlyUnfinishedCharacters) {
  EXPECT_EQ(complete_utf8_prefix(""), 0u);
  EXPECT_EQ(complete_utf8_prefix("abc"), 3u);
  EXPECT_EQ(complete_utf8_prefix("a\xF0"), 1u);
  EXPECT_EQ(complete_utf8_prefix("a\xF0\x9F"), 1u);
  EXPECT_EQ(complete_utf8_prefix("a\xF0\x9F\xA6"), 1u);
  EXPECT_EQ(complete_utf8_prefix("a\xF0\x9F\xA6\x99"), 5u);
  EXPECT_EQ(complete_utf8_prefix("a\xE2\x82"), 1u);
  // Bytes that can never complete a character are not held back (they become U+FFFD downstream).
  EXPECT_EQ(complete_utf8_prefix("a\x80"), 2u);
  EXPECT_EQ(complete_utf8_prefix("a\xF0"
                                 "b"),
            3u);
}

TEST(ByteLevel, EveryByteRoundTrips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  std::string spelled, back;
  byte_level_encode(all, spelled);
  EXPECT_TRUE(is_valid_utf8(spelled));
  byte_level_decode(spelled, back);
  EXPECT_EQ(back, all);
  EXPECT_EQ(byte_level_symbols()[' '], "\xC4\xA0");  // "Ġ"
  EXPECT_EQ(byte_level_symbols()['A'], "A");
}

}  // namespace
}  // namespace sy::tok
