// Replays the composition fuzz target (tests/fuzz/composition_fuzz.cpp) in every build: on its seeds (a rules
// composition in TOML and in JSON, an embedding and an llm router: each must parse) and every input kept in
// tests/fuzz/regressions/composition/.
#include <gtest/gtest.h>

#include "coe/composition.h"
#include "support/test_support.h"

namespace sy::fuzz {
int composition(const uint8_t* data, size_t size);
}

namespace sy::coe {
namespace {

TEST(CompositionFuzzReplay, SeedsParseAndRoute) {
  const auto seeds = sy::test::fuzz_inputs("composition", "seeds");
  EXPECT_GE(seeds.size(), 4u);
  for (const auto& path : seeds) {
    const auto bytes = sy::test::read_file_bytes(path);
    ASSERT_GE(bytes.size(), 2u) << path;
    const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 1), bytes.size() - 1);
    const auto format = bytes[0] % 2 == 0 ? CompositionFormat::kToml : CompositionFormat::kJson;
    auto c = parse_composition(text, format, "/m", path.string());
    EXPECT_TRUE(c) << path << ": " << (c ? "" : c.error().message);
    EXPECT_EQ(fuzz::composition(bytes.data(), bytes.size()), 0) << path;
  }
}

TEST(CompositionFuzzReplay, KeptRegressionInputs) {
  for (const auto& path : sy::test::fuzz_inputs("composition")) {
    const auto bytes = sy::test::read_file_bytes(path);
    EXPECT_EQ(fuzz::composition(bytes.data(), bytes.size()), 0) << path;
  }
}

}  // namespace
}  // namespace sy::coe
