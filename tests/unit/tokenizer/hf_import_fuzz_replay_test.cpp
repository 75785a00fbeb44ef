// Replays the hf_import fuzz target (tests/fuzz/hf_import_fuzz.cpp) in every build: on its seeds (real
// tokenizers cut down; each must import), cuts of one, and every input kept in tests/fuzz/regressions/hf_import/.
#include <gtest/gtest.h>

#include <string>

#include "support/test_support.h"
#include "tokenizer/hf_import.h"

namespace sy::fuzz {
int hf_import(const uint8_t* data, size_t size);
}

namespace sy::tok {
namespace {

TEST(HfImportFuzzReplay, SeedsImport) {
  const auto seeds = sy::test::fuzz_inputs("hf_import", "seeds");
  EXPECT_GE(seeds.size(), 3u);
  for (const auto& path : seeds) {
    SCOPED_TRACE(path.string());
    const auto bytes = sy::test::read_file_bytes(path);
    EXPECT_LE(bytes.size(), 65536u);  // the fuzzer's -max_len
    const std::string text(bytes.begin(), bytes.end());
    const size_t nul = text.find('\0');
    ASSERT_NE(nul, std::string::npos);
    auto imported = import_hf_tokenizer(HfTokenizerFiles{.dir = path.parent_path(),
                                                         .tokenizer_json = text.substr(0, nul),
                                                         .tokenizer_config_json = text.substr(nul + 1)});
    EXPECT_TRUE(imported) << imported.error().message;
    EXPECT_EQ(fuzz::hf_import(bytes.data(), bytes.size()), 0);
    for (size_t cut : {size_t{0}, size_t{1}, nul / 2, nul, nul + 1, bytes.size() - 1})
      EXPECT_EQ(fuzz::hf_import(bytes.data(), cut), 0) << "cut at " << cut;
  }
}

TEST(HfImportFuzzReplay, KeptRegressionInputs) {
  for (const auto& path : sy::test::fuzz_inputs("hf_import")) {
    const auto bytes = sy::test::read_file_bytes(path);
    EXPECT_EQ(fuzz::hf_import(bytes.data(), bytes.size()), 0) << path;
  }
}

// An added token's id once sized the vocabulary however large it was (up to 4 M padding tokens from a few
// bytes of JSON); ids now run at most 65536 past the tokens the file names.
TEST(HfImportFuzzReplay, AnIdFarPastTheNamedTokensIsRefused) {
  const std::string tj = R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []},
                             "added_tokens": [{"id": 4000000, "content": "<x>", "special": true}]})";
  auto r = import_hf_tokenizer(HfTokenizerFiles{.dir = "forged", .tokenizer_json = tj});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfRange);
  EXPECT_NE(r.error().message.find("has id 4000000, outside [0, 65539)"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace sy::tok
