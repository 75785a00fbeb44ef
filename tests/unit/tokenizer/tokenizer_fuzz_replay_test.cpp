// Replays the tokenizer fuzz targets (tests/fuzz/tokenizer_*_fuzz.cpp) in every build: the encoder on the
// conformance cases and hand-picked awkward inputs under every vocabulary/option selector, the vocabulary
// loader on every conformance vocabulary, and any inputs kept in tests/fuzz/regressions/tokenizer_*/.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "support/test_support.h"

namespace sy::fuzz {
int tokenizer_encode(const uint8_t* data, size_t size);
int tokenizer_vocab(const uint8_t* data, size_t size);
}  // namespace sy::fuzz

namespace sy::tok {
namespace {

int run_encode(uint8_t selector, const std::string& text) {
  std::string input(1, static_cast<char>(selector));
  input += text;
  return fuzz::tokenizer_encode(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

void replay_dir(const char* target, int (*fn)(const uint8_t*, size_t)) {
  const auto dir = std::filesystem::path(SY_SOURCE_DIR) / "tests/fuzz/regressions" / target;
  if (!std::filesystem::is_directory(dir)) return;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == "README.md") continue;
    const auto bytes = sy::test::read_file_bytes(e.path());
    EXPECT_EQ(fn(bytes.data(), bytes.size()), 0) << e.path();
  }
}

TEST(TokenizerFuzzReplay, EncodeConformanceCasesAndAwkwardInputs) {
  std::ifstream in(sy::test::conformance_dir() / "tokenizer" / "tiny-bpe.inp", std::ios::binary);
  ASSERT_TRUE(in) << "missing " << sy::test::conformance_dir() / "tokenizer" / "tiny-bpe.inp";
  std::ostringstream s;
  s << in.rdbuf();
  std::vector<std::string> texts = {s.str(),
                                    "",
                                    "\xFF\xFE\xC0\x80\xED\xA0\x80",
                                    std::string(5000, ' ') + "x" + std::string(5000, '\n'),
                                    std::string(3000, 'a'),
                                    "<|im_start|><|im_start|><s></s><unk> <|endoftext|>",
                                    "\xF0\x9F\xA6",
                                    std::string("a\0b", 3)};
  // Every vocabulary (low bits) with every option combination (bits 4 and 5).
  for (const std::string& text : texts)
    for (int selector = 0; selector < 64; ++selector) EXPECT_EQ(run_encode(static_cast<uint8_t>(selector), text), 0);
  replay_dir("tokenizer_encode", fuzz::tokenizer_encode);
}

TEST(TokenizerFuzzReplay, VocabularyLoaderOnConformanceVocabularies) {
  size_t count = 0;
  for (const auto& e : std::filesystem::directory_iterator(sy::test::conformance_dir() / "tokenizer")) {
    if (e.path().extension() != ".gguf") continue;
    ++count;
    const auto bytes = sy::test::read_file_bytes(e.path());
    EXPECT_EQ(fuzz::tokenizer_vocab(bytes.data(), bytes.size()), 0) << e.path();
    // A cut-off file must fail cleanly, wherever the cut falls.
    for (size_t cut : {size_t{0}, size_t{7}, size_t{100}, bytes.size() / 2, bytes.size() - 1})
      EXPECT_EQ(fuzz::tokenizer_vocab(bytes.data(), cut), 0) << e.path() << " cut at " << cut;
  }
  EXPECT_GT(count, 0u) << "no *.gguf in " << sy::test::conformance_dir() / "tokenizer";
  replay_dir("tokenizer_vocab", fuzz::tokenizer_vocab);
}

}  // namespace
}  // namespace sy::tok
