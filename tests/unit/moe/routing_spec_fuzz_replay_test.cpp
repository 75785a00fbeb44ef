// Replays the routing_spec fuzz target (tests/fuzz/routing_spec_fuzz.cpp) in every build: on its seeds (the
// grammar's examples from docs/routing.md on every layer layout; each must build) and every input kept in
// tests/fuzz/regressions/routing_spec/.
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace sy::fuzz {
int routing_spec(const uint8_t* data, size_t size);
}

namespace sy::moe {
namespace {

TEST(RoutingSpecFuzzReplay, SeedsOnEveryLayout) {
  const auto seeds = sy::test::fuzz_inputs("routing_spec", "seeds");
  EXPECT_GE(seeds.size(), 5u);
  for (const auto& path : seeds) {
    auto bytes = sy::test::read_file_bytes(path);
    ASSERT_GE(bytes.size(), 2u) << path;
    for (uint8_t layout = 0; layout < 4; ++layout) {
      bytes[0] = layout;
      EXPECT_EQ(fuzz::routing_spec(bytes.data(), bytes.size()), 0) << path << " on layout " << int{layout};
    }
  }
}

TEST(RoutingSpecFuzzReplay, KeptRegressionInputs) {
  for (const auto& path : sy::test::fuzz_inputs("routing_spec")) {
    const auto bytes = sy::test::read_file_bytes(path);
    EXPECT_EQ(fuzz::routing_spec(bytes.data(), bytes.size()), 0) << path;
  }
}

}  // namespace
}  // namespace sy::moe
