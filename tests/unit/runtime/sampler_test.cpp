#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <vector>

namespace sy::runtime {
namespace {

TEST(Sampler, GreedyTakesLowestIdOnTies) {
  Sampler s(SamplingParams{});
  const std::vector<float> logits = {0.5f, 2.0f, 2.0f, -1.0f};
  EXPECT_EQ(s.sample(logits, {}), 1);
  EXPECT_EQ(argmax(logits), 1);
}

TEST(Sampler, RepetitionPenaltyChangesTheGreedyChoice) {
  Sampler s(SamplingParams{.repeat_penalty = 2.0f});
  const std::vector<float> logits = {1.0f, 1.5f};
  const std::vector<int32_t> history = {1};
  EXPECT_EQ(s.sample(logits, history), 0);  // 1.5 / 2 < 1.0
}

// OpenAI's penalties: presence once per recent token, frequency once per occurrence, both subtracted.
TEST(Sampler, PresenceAndFrequencyPenaltiesSubtractPerTokenAndPerOccurrence) {
  const std::vector<float> logits = {1.0f, 1.5f, 1.3f};
  const std::vector<int32_t> history = {1, 1, 2};
  // Token 1 (1.5) seen twice: 1.5 - 2 x 0.35 = 0.8; token 2 (1.3) once: 0.95; token 0 (1.0) wins.
  EXPECT_EQ(Sampler(SamplingParams{.frequency_penalty = 0.35f}).sample(logits, history), 0);
  // 0.15 per occurrence: token 1 at 1.2, token 2 at 1.15, token 0 at 1.0: token 1 still best.
  EXPECT_EQ(Sampler(SamplingParams{.frequency_penalty = 0.15f}).sample(logits, history), 1);
  // Presence 0.4: 1 and 2 lose 0.4 each whatever their counts: 1.1, 0.9 against 1.0.
  EXPECT_EQ(Sampler(SamplingParams{.presence_penalty = 0.4f}).sample(logits, history), 1);
  EXPECT_EQ(Sampler(SamplingParams{.presence_penalty = 0.6f}).sample(logits, history), 0);
  // A negative penalty favours what was said; the window (repeat_last_n) bounds what counts.
  EXPECT_EQ(Sampler(SamplingParams{.presence_penalty = -0.5f})
                .sample(std::vector<float>{1.0f, 0.6f, 0.0f}, std::vector<int32_t>{1}),
            1);
  EXPECT_EQ(Sampler(SamplingParams{.repeat_last_n = 1, .presence_penalty = 0.6f}).sample(logits, history), 1);
}

TEST(Sampler, TopKOneIsGreedyAtAnyTemperature) {
  Sampler s(SamplingParams{.temperature = 5.0f, .top_k = 1, .seed = 3});
  const std::vector<float> logits = {0.0f, 0.1f, 3.0f, 0.2f};
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(logits, {}), 2);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  Sampler s(SamplingParams{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .min_p = 0.5f, .seed = 1});
  const std::vector<float> logits = {5.0f, 0.0f, 0.0f, 4.9f};
  for (int i = 0; i < 50; ++i) {
    const int32_t t = s.sample(logits, {});
    EXPECT_TRUE(t == 0 || t == 3) << t;
  }
}

TEST(Sampler, SameSeedSameDraws) {
  const SamplingParams p{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .min_p = 0.0f, .seed = 42};
  Sampler a(p), b(p);
  const std::vector<float> logits = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.sample(logits, {}), b.sample(logits, {}));
}

TEST(Sampler, DefaultsAreLlamaCppsAndOnlyWrittenOnce) {
  // run, chat, perplexity and generate all start from these (README.md documents them).
  const SamplingParams d = SamplingParams::defaults();
  EXPECT_EQ(d.temperature, 0.8f);
  EXPECT_EQ(d.top_k, 40);
  EXPECT_EQ(d.top_p, 0.95f);
  EXPECT_EQ(d.min_p, 0.05f);
  EXPECT_EQ(d.repeat_penalty, 1.0f);
  EXPECT_EQ(d.repeat_last_n, 64);
  EXPECT_EQ(SamplingParams{}.temperature, 0.0f);  // a value-initialised one stays greedy
}

}  // namespace
}  // namespace sy::runtime
