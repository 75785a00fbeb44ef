// Tokenizer conformance against llama.cpp's outputs in ../shared/conformance/tokenizer: every case of every
// vocabulary must give exactly the reference ids (no BOS/EOS, special text not parsed), and decoding must give
// the text back.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf_reader.h"
#include "support/test_support.h"
#include "tokenizer/tokenizer.h"

namespace sy::tok {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `.inp`: cases separated by (and ended with) "\n__ggml_vocab_test__\n".
std::vector<std::string> read_cases(const std::filesystem::path& path) {
  const std::string text = read_text(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  size_t pos = 0;
  for (size_t hit; (hit = text.find(sep, pos)) != std::string::npos; pos = hit + sep.size())
    cases.push_back(text.substr(pos, hit - pos));
  return cases;
}

// `.out`: one line of space-separated ids per case.
std::vector<std::vector<TokenId>> read_ids(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::vector<TokenId>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line);
    std::vector<TokenId> ids;
    for (TokenId id; s >> id;) ids.push_back(id);
    out.push_back(std::move(ids));
  }
  return out;
}

void check_vocab(const std::filesystem::path& vocab_path, const std::filesystem::path& inp,
                 const std::filesystem::path& out) {
  SCOPED_TRACE(vocab_path.filename().string());
  ASSERT_TRUE(std::filesystem::is_regular_file(inp)) << "missing " << inp;
  ASSERT_TRUE(std::filesystem::is_regular_file(out)) << "missing " << out;
  auto file = gguf::File::open(vocab_path);
  ASSERT_TRUE(file) << file.error().message;
  auto tok = Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tok) << tok.error().message;
  const auto cases = read_cases(inp);
  const auto expected = read_ids(out);
  ASSERT_EQ(cases.size(), 46u);
  ASSERT_EQ(expected.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "case " << i << " '" << cases[i] << "'");
    auto ids = tok->encode(cases[i], {.add_special = false, .parse_special = false});
    ASSERT_TRUE(ids) << ids.error().message;
    EXPECT_EQ(*ids, expected[i]);
    EXPECT_EQ(tok->decode(*ids), cases[i]);
  }
}

TEST(TokenizerConformance, LlamaCppVocabularies) {
  const auto dir = test::conformance_dir() / "tokenizer";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".gguf") continue;
    check_vocab(e.path(), e.path().string() + ".inp", e.path().string() + ".out");
    ++n;
  }
  EXPECT_EQ(n, 4);
}

TEST(TokenizerConformance, TinyBpeVocabularyOfEveryModel) {
  const auto dir = test::conformance_dir();
  for (const auto& model : test::conformance_models())  // throws, failing the test, when there is none
    check_vocab(model, dir / "tokenizer" / "tiny-bpe.inp", dir / "tokenizer" / "tiny-bpe.out");
}

}  // namespace
}  // namespace sy::tok
