#include "runtime/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace sy::runtime {
namespace {

TEST(PerplexityWindows, BosPlusChunksOfCtxMinusOneScoreEveryTokenOnce) {
  const std::vector<int32_t> t = {10, 11, 12, 13, 14, 15, 16};
  auto w = perplexity_windows(t, 4, 1);
  ASSERT_TRUE(w);
  ASSERT_EQ(w->size(), 3u);
  EXPECT_EQ((*w)[0].tokens, (std::vector<int32_t>{1, 10, 11, 12}));
  EXPECT_EQ((*w)[1].tokens, (std::vector<int32_t>{1, 13, 14, 15}));
  EXPECT_EQ((*w)[2].tokens, (std::vector<int32_t>{1, 16}));
  size_t scored = 0;
  for (const auto& win : *w) scored += win.tokens.size() - win.first_scored;
  EXPECT_EQ(scored, t.size());
}

TEST(PerplexityWindows, WithoutBosTheFirstTokenOfEachChunkIsContext) {
  const std::vector<int32_t> t = {10, 11, 12, 13, 14};
  auto w = perplexity_windows(t, 3, std::nullopt);
  ASSERT_TRUE(w);
  ASSERT_EQ(w->size(), 2u);
  EXPECT_EQ((*w)[0].tokens, (std::vector<int32_t>{10, 11, 12}));
  EXPECT_EQ((*w)[1].tokens, (std::vector<int32_t>{13, 14}));
  EXPECT_EQ((*w)[1].first_scored, 1u);
}

TEST(PerplexityWindows, RejectsTinyContextsAndTexts) {
  const std::vector<int32_t> one = {5};
  EXPECT_FALSE(perplexity_windows(one, 1, 1));
  EXPECT_FALSE(perplexity_windows(one, 8, std::nullopt));
  EXPECT_FALSE(perplexity_windows({}, 8, 1));
  EXPECT_TRUE(perplexity_windows(one, 2, 1));
}

TEST(PerplexityMath, TokenNllIsMinusLogSoftmax) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(token_nll(logits, 0), std::log(z) - 1.0, 1e-12);
  EXPECT_NEAR(token_nll(logits, 2), std::log(z) - 3.0, 1e-12);
  // Large logits must not overflow.
  const std::vector<float> big = {1000.0f, 1000.0f};
  EXPECT_NEAR(token_nll(big, 1), std::log(2.0), 1e-12);
}

TEST(PerplexityMath, StandardErrorAsLlamaCpp) {
  NllStats s;
  const std::vector<double> nll = {1.0, 2.0, 4.0};
  for (double x : nll) s.add(x);
  const double mean = 7.0 / 3.0;
  const double mean_sq = 21.0 / 3.0;
  EXPECT_NEAR(s.mean(), mean, 1e-12);
  EXPECT_NEAR(s.perplexity(), std::exp(mean), 1e-9);
  EXPECT_NEAR(s.perplexity_stderr(), std::exp(mean) * std::sqrt((mean_sq - mean * mean) / 2.0), 1e-9);
  NllStats one;
  one.add(3.0);
  EXPECT_EQ(one.perplexity_stderr(), 0.0);
}

}  // namespace
}  // namespace sy::runtime
