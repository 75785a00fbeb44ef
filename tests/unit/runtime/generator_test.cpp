#include "runtime/generator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "support/test_support.h"

namespace sy::runtime {
namespace {

GenerateOptions options(int32_t n_predict, std::vector<int32_t> stop = {},
                        const std::atomic<bool>* interrupt = nullptr) {
  GenerateOptions o;
  o.n_predict = n_predict;
  o.stop_tokens = std::move(stop);
  o.interrupt = interrupt;
  return o;
}

// A real 512-token byte-level BPE vocabulary and a tiny MoE: quick enough to run whole generations.
class GeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = model::Model::open(test::conformance_dir() / "models" / "qwen3moe-tiny.f32.gguf");
    ASSERT_TRUE(m) << m.error().message;
    model_ = std::move(*m);
    auto t = tok::Tokenizer::from_gguf(model_->file());
    ASSERT_TRUE(t) << t.error().message;
    tokenizer_ = std::make_unique<tok::Tokenizer>(std::move(*t));
  }

  // The reference: prefill, then argmax and feed, token by token, with no generator involved.
  std::vector<int32_t> greedy_by_hand(const std::vector<int32_t>& prompt, int n) {
    Session s(*model_, {.n_ctx = 128});
    std::vector<float> logits;
    EXPECT_TRUE(s.eval(prompt, logits));
    std::vector<int32_t> out;
    const auto v = static_cast<size_t>(s.n_vocab());
    for (int i = 0; i < n; ++i) {
      const int32_t next = argmax(std::span<const float>(logits.data() + logits.size() - v, v));
      out.push_back(next);
      EXPECT_TRUE(s.eval(std::span<const int32_t>(&next, 1), logits));
    }
    return out;
  }

  std::unique_ptr<model::Model> model_;
  std::unique_ptr<tok::Tokenizer> tokenizer_;
  const std::vector<int32_t> prompt_ = {509, 498, 497, 502, 193, 87, 469, 53};
};

TEST_F(GeneratorTest, GreedyEqualsTheHandLoopAndStreamsItsDecodedText) {
  Session session(*model_, {.n_ctx = 128});
  Generator gen(session, *tokenizer_, SamplingParams{});
  std::string text;
  auto stats = gen.generate(prompt_, options(12), [&](std::string_view piece) { text += piece; });
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->tokens, greedy_by_hand(prompt_, 12));
  EXPECT_EQ(stats->reason, StopReason::kLimit);
  EXPECT_EQ(stats->n_prompt, 8);
  EXPECT_EQ(stats->n_generated, 12);
  EXPECT_EQ(text, tokenizer_->decode(stats->tokens, /*special=*/false));
}

TEST_F(GeneratorTest, StopTokenEndsWithoutEmittingIt) {
  const auto expected = greedy_by_hand(prompt_, 4);
  Session session(*model_, {.n_ctx = 128});
  Generator gen(session, *tokenizer_, SamplingParams{});
  auto stats = gen.generate(prompt_, options(10, {expected[2]}), [](std::string_view) {});
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->reason, StopReason::kStopToken);
  // The first occurrence of the stop token ends it (it may also be among the first two).
  std::vector<int32_t> want;
  for (int32_t t : expected) {
    if (t == expected[2]) break;
    want.push_back(t);
  }
  EXPECT_EQ(stats->tokens, want);
}

TEST_F(GeneratorTest, InterruptFlagStopsBeforeAnyWork) {
  Session session(*model_, {.n_ctx = 128});
  Generator gen(session, *tokenizer_, SamplingParams{});
  std::atomic<bool> stop{true};
  auto stats = gen.generate(prompt_, options(10, {}, &stop), [](std::string_view) {});
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->reason, StopReason::kInterrupted);
  EXPECT_TRUE(stats->tokens.empty());
}

TEST_F(GeneratorTest, InterruptDuringGenerationStopsAtTheNextToken) {
  Session session(*model_, {.n_ctx = 128});
  Generator gen(session, *tokenizer_, SamplingParams{});
  std::atomic<bool> stop{false};
  size_t pieces = 0;
  auto stats = gen.generate(prompt_, options(50, {}, &stop), [&](std::string_view) {
    if (++pieces == 2) stop.store(true);
  });
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->reason, StopReason::kInterrupted);
  EXPECT_LT(stats->n_generated, 50);
}

TEST_F(GeneratorTest, ExtendingTheSequenceReusesTheSessionAndMatchesAFreshRun) {
  Session session(*model_, {.n_ctx = 128});
  Generator gen(session, *tokenizer_, SamplingParams{});
  auto first = gen.generate(prompt_, options(4), [](std::string_view) {});
  ASSERT_TRUE(first);
  // The session holds the prompt and the first three generated tokens (the fourth was never fed).
  std::vector<int32_t> longer = prompt_;
  longer.insert(longer.end(), first->tokens.begin(), first->tokens.end());
  longer.push_back(7);
  auto second = gen.generate(longer, options(5), [](std::string_view) {});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->n_prompt, 2);  // the fourth generated token and the new one
  EXPECT_EQ(second->tokens, greedy_by_hand(longer, 5));
  // A sequence that does not extend the session starts over.
  auto third = gen.generate(prompt_, options(4), [](std::string_view) {});
  ASSERT_TRUE(third);
  EXPECT_EQ(third->n_prompt, 8);
  EXPECT_EQ(third->tokens, first->tokens);
}

TEST_F(GeneratorTest, FullContextStopsAndBadPromptsFail) {
  Session session(*model_, {.n_ctx = 10});
  Generator gen(session, *tokenizer_, SamplingParams{});
  auto stats = gen.generate(prompt_, {}, [](std::string_view) {});
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->reason, StopReason::kContextFull);
  EXPECT_EQ(stats->n_generated, 3);  // positions 8 and 9 are fed, the third is sampled from position 9

  EXPECT_FALSE(gen.generate(std::vector<int32_t>{}, {}, [](std::string_view) {}));
  const std::vector<int32_t> too_long(11, 5);
  auto e = gen.generate(too_long, {}, [](std::string_view) {});
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("context"), std::string::npos);
  EXPECT_FALSE(gen.generate(std::vector<int32_t>{1, 99999}, {}, [](std::string_view) {}));
}

TEST(EndOfGeneration, FindsEosEotAndChatMarkers) {
  tok::Vocab v;
  v.tokens = {"a", "<|im_end|>", "<|endoftext|>", "<|eot_id|>"};
  v.types = {tok::TokenType::kNormal, tok::TokenType::kControl, tok::TokenType::kControl, tok::TokenType::kNormal};
  v.special.eos = 2;
  ASSERT_TRUE(v.finish("test"));
  // <|eot_id|> is text here (not a control token), so it does not stop generation.
  EXPECT_EQ(end_of_generation_tokens(v), (std::vector<int32_t>{2, 1}));
}

}  // namespace
}  // namespace sy::runtime
