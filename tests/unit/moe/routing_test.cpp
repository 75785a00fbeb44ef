// The native routing rules on hand-computed cases (reference A.0): softmax → top-k with and without
// renormalisation, sigmoid with selection bias, groups and scale, softmax over the selected logits.
#include "moe/routing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace sy::moe {
namespace {

RoutingDecision route(const RoutingConfig& c, const std::vector<float>& logits, const float* bias = nullptr) {
  NativeRoutingPolicy policy;
  RoutingDecision d;
  policy.route(c,
               RouterOutput{.logits = logits.data(),
                            .n_tokens = static_cast<int64_t>(logits.size()) / c.n_expert,
                            .selection_bias = bias},
               d);
  return d;
}

TEST(NativeRouting, SoftmaxTopKKeepsFullSoftmaxWeights) {
  const RoutingConfig c{.gating = Gating::kSoftmax, .n_expert = 4, .n_used = 2};
  const auto d = route(c, {0.0f, 2.0f, 1.0f, -1.0f});
  ASSERT_EQ(d.ids, (std::vector<int32_t>{1, 2}));
  const double z = std::exp(0.0) + std::exp(2.0) + std::exp(1.0) + std::exp(-1.0);
  EXPECT_NEAR(d.weights[0], std::exp(2.0) / z, 1e-6);
  EXPECT_NEAR(d.weights[1], std::exp(1.0) / z, 1e-6);
}

TEST(NativeRouting, RenormalisedWeightsSumToOne) {
  const RoutingConfig c{.gating = Gating::kSoftmax, .n_expert = 4, .n_used = 2, .norm_weights = true};
  const auto d = route(c, {0.0f, 2.0f, 1.0f, -1.0f, /*token 2*/ 3.0f, 0.0f, 0.0f, 3.5f});
  ASSERT_EQ(d.n_tokens, 2);
  EXPECT_NEAR(d.weights[0] + d.weights[1], 1.0f, 1e-6);
  EXPECT_NEAR(d.weights[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_EQ(d.ids_of(1)[0], 3);
  EXPECT_EQ(d.ids_of(1)[1], 0);
}

TEST(NativeRouting, SoftmaxOverSelectedEqualsRenormalisedSoftmax) {
  const std::vector<float> z = {0.3f, -1.0f, 2.0f, 0.9f, 0.1f, 1.5f};
  const auto a = route({.gating = Gating::kSoftmaxSelected, .n_expert = 6, .n_used = 3}, z);
  const auto b = route({.gating = Gating::kSoftmax, .n_expert = 6, .n_used = 3, .norm_weights = true}, z);
  EXPECT_EQ(a.ids, b.ids);
  for (size_t i = 0; i < a.weights.size(); ++i) EXPECT_NEAR(a.weights[i], b.weights[i], 1e-6);
}

TEST(NativeRouting, SelectionBiasChoosesButDoesNotWeigh) {
  const RoutingConfig c{.gating = Gating::kSigmoid, .n_expert = 4, .n_used = 1};
  const std::vector<float> bias = {0.0f, 0.0f, 0.0f, 1.0f};
  const auto d = route(c, {2.0f, 0.0f, 0.0f, 0.0f}, bias.data());
  ASSERT_EQ(d.ids[0], 3);                 // 0.5 + 1 beats sigmoid(2) = 0.88
  EXPECT_NEAR(d.weights[0], 0.5f, 1e-6);  // the unbiased sigmoid
}

TEST(NativeRouting, GroupsKeepTheBestTopTwoSums) {
  // 3 groups of 2: sums of sigmoid scores decide; keep 1 group, so both picks come from it.
  const RoutingConfig c{.gating = Gating::kSigmoid,
                        .n_expert = 6,
                        .n_used = 2,
                        .norm_weights = true,
                        .weight_scale = 2.5f,
                        .n_group = 3,
                        .n_group_used = 1};
  // group 0: {5, -5} (one very strong expert), group 1: {1.5, 1.5}, group 2: {0, 0}
  const auto d = route(c, {5.0f, -5.0f, 1.5f, 1.5f, 0.0f, 0.0f});
  ASSERT_EQ(d.ids, (std::vector<int32_t>{2, 3}));  // 2·σ(1.5) = 1.63 > σ(5) + σ(-5) = 1.0
  EXPECT_NEAR(d.weights[0], 1.25f, 1e-6);          // renormalised halves, times 2.5
  EXPECT_NEAR(d.weights[1], 1.25f, 1e-6);
}

TEST(NativeRouting, ScaleMultipliesWeights) {
  const auto d = route({.gating = Gating::kSoftmax, .n_expert = 2, .n_used = 1, .weight_scale = 16.0f}, {0.0f, 0.0f});
  EXPECT_EQ(d.ids[0], 0);  // ties go to the lower id
  EXPECT_NEAR(d.weights[0], 8.0f, 1e-6);
}

}  // namespace
}  // namespace sy::moe
