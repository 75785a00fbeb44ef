// Replays the http_request fuzz target (tests/fuzz/http_request_fuzz.cpp) in every build: its seeds (one body per
// endpoint, each must parse), every prefix of each (truncated bodies: errors that name themselves) and every
// input kept in tests/fuzz/regressions/http_request/.
#include <gtest/gtest.h>

#include "server/core/request.h"
#include "support/test_support.h"

namespace sy::fuzz {
int http_request(const uint8_t* data, size_t size);
}

namespace sy::server {
namespace {

TEST(HttpRequestFuzzReplay, SeedsParseAndEveryPrefixFailsCleanly) {
  const auto seeds = sy::test::fuzz_inputs("http_request", "seeds");
  EXPECT_GE(seeds.size(), 5u);
  for (const auto& path : seeds) {
    const auto bytes = sy::test::read_file_bytes(path);
    ASSERT_GE(bytes.size(), 2u) << path;
    auto json = parse_json_body({reinterpret_cast<const char*>(bytes.data()) + 1, bytes.size() - 1});
    ASSERT_TRUE(json) << path;
    // Each seed is a request its endpoint accepts, so the fuzzer starts past validation, not at its first error.
    bool accepted = false;
    switch (bytes[0] % 4) {
      case 0: accepted = parse_chat_request(*json, {}).has_value(); break;
      case 1: accepted = parse_completion_request(*json, {}).has_value(); break;
      case 2: accepted = parse_tokenize_request(*json).has_value(); break;
      default: accepted = parse_detokenize_request(*json, 151936).has_value();
    }
    EXPECT_TRUE(accepted) << path;
    for (size_t n = 0; n <= bytes.size(); ++n) ASSERT_EQ(fuzz::http_request(bytes.data(), n), 0) << path << " " << n;
  }
}

TEST(HttpRequestFuzzReplay, KeptRegressionInputs) {
  for (const auto& path : sy::test::fuzz_inputs("http_request")) {
    const auto bytes = sy::test::read_file_bytes(path);
    EXPECT_EQ(fuzz::http_request(bytes.data(), bytes.size()), 0) << path;
  }
}

}  // namespace
}  // namespace sy::server
