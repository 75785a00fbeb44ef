// Every routing policy on hand-made router scores with answers worked out by hand (reference B1 for top-p).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "moe/expert_store.h"
#include "moe/policies/biased.h"
#include "moe/policies/cache_aware.h"
#include "moe/policies/masked.h"
#include "moe/policies/per_layer.h"
#include "moe/policies/routing_spec.h"
#include "moe/policies/top_k.h"
#include "moe/policies/top_p.h"
#include "moe/policies/uniform_random.h"

namespace sy::moe {
namespace {

RoutingDecision run(RoutingPolicy& p, const RoutingConfig& c, const std::vector<float>& logits, int32_t layer = 0,
                    const float* bias = nullptr) {
  RoutingDecision d;
  p.route(c,
          RouterOutput{.logits = logits.data(),
                       .n_tokens = static_cast<int64_t>(logits.size()) / c.n_expert,
                       .selection_bias = bias,
                       .layer = layer},
          d);
  return d;
}

// Logits whose softmax is exactly the given probabilities.
std::vector<float> logits_of(const std::vector<double>& p) {
  std::vector<float> z;
  for (double v : p) z.push_back(static_cast<float>(std::log(v)));
  return z;
}

const RoutingConfig kSoftmax4{.gating = Gating::kSoftmax, .n_expert = 4, .n_used = 2};

// A store that says which experts are cached and holds nothing else (routing never acquires).
class CachedSetStore final : public ExpertStore {
 public:
  explicit CachedSetStore(std::vector<uint8_t> cached) : cached_(std::move(cached)) {}
  Result<ExpertHandle> acquire(int32_t, int32_t) override { return fail(ErrorCode::kUnsupported, "not here"); }
  bool cached_experts(int32_t, std::span<uint8_t> out) const override {
    std::copy(cached_.begin(), cached_.end(), out.begin());
    return true;
  }

 protected:
  void release(int32_t, int32_t) noexcept override {}

 private:
  std::vector<uint8_t> cached_;
};

RoutingDecision run_with_store(RoutingPolicy& p, const RoutingConfig& c, const std::vector<float>& logits,
                               const ExpertStore* store) {
  RoutingDecision d;
  p.route(c, RouterOutput{.logits = logits.data(), .n_tokens = 1, .layer = 0, .store = store}, d);
  return d;
}

TEST(CacheAwarePolicy, ANearTieGoesToTheCachedExpertWithTheModelsWeights) {
  const RoutingConfig c{.gating = Gating::kSoftmax, .n_expert = 4, .n_used = 2, .norm_weights = true};
  const auto z = logits_of({0.36, 0.30, 0.28, 0.06});  // native: 0 and 1
  CachedSetStore store({1, 0, 1, 0});                  // 1 is missing, 2 (0.02 behind it) is cached
  CacheAwarePolicy aware(0.05f, std::make_unique<NativeRoutingPolicy>());
  const auto d = run_with_store(aware, c, z, &store);
  EXPECT_EQ(d.ids, (std::vector<int32_t>{0, 2}));
  EXPECT_NEAR(d.weights[0], 0.36 / 0.64, 1e-6);  // the bonus moved the choice, not the weights
  EXPECT_NEAR(d.weights[1], 0.28 / 0.64, 1e-6);
  // A gap wider than the bonus is kept.
  CacheAwarePolicy small(0.01f, std::make_unique<NativeRoutingPolicy>());
  EXPECT_EQ(run_with_store(small, c, z, &store).ids, (std::vector<int32_t>{0, 1}));
  // No store, or one that holds everything (the resident mapping): the native choice.
  EXPECT_EQ(run_with_store(aware, c, z, nullptr).ids, (std::vector<int32_t>{0, 1}));
  CachedSetStore all({1, 1, 1, 1});
  EXPECT_EQ(run_with_store(aware, c, z, &all).ids, (std::vector<int32_t>{0, 1}));
}

TEST(CacheAwarePolicy, TheRouteGrammarWrapsEveryLayer) {
  const std::vector<MoeLayerInfo> layers = {{0, kSoftmax4}, {1, kSoftmax4}};
  auto built = build_routing_policy({.route = "top-k:1,cache-aware:0.5"}, layers, 2);
  ASSERT_TRUE(built) << built.error().message;
  EXPECT_NE(built->description.find("cache-aware=0.5"), std::string::npos) << built->description;
  CachedSetStore store({0, 0, 0, 1});
  const auto d = run_with_store(*built->policy, kSoftmax4, logits_of({0.4, 0.3, 0.2, 0.1}), &store);
  EXPECT_EQ(d.ids, (std::vector<int32_t>{3}));  // top-k:1 inside, the cached expert wins by the bonus
  for (const char* bad : {"cache-aware", "cache-aware:", "cache-aware:-1", "cache-aware:nan", "cache-aware:x",
                          "cache-aware:0.1,cache-aware:0.2"}) {
    auto r = build_routing_policy({.route = bad}, layers, 2);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find("cache-aware"), std::string::npos) << r.error().message;
    }
  }
}

TEST(TopKPolicy, OverridesKWithNativeNormalisation) {
  TopKPolicy p(3);
  const RoutingConfig c{.gating = Gating::kSoftmax, .n_expert = 4, .n_used = 2, .norm_weights = true};
  const auto d = run(p, c, logits_of({0.1, 0.4, 0.3, 0.2}));
  ASSERT_EQ(d.k, 3);
  EXPECT_EQ(d.ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_NEAR(d.weights[0], 0.4 / 0.9, 1e-6);  // renormalised over the 3 chosen, as the model does for its 2
  EXPECT_NEAR(d.weights[2], 0.2 / 0.9, 1e-6);
}

TEST(TopPPolicy, KeepsTheExpertThatCrossesP) {
  // Sorted 0.5, 0.3, 0.15, 0.05: cumulative 0.5, 0.8, 0.95, 1. P = 0.6: 0.5 <= 0.6, then 0.8 crosses → 2 experts.
  TopPPolicy p({.p = 0.6f});
  const auto d = run(p, kSoftmax4, logits_of({0.15, 0.5, 0.05, 0.3}));
  ASSERT_EQ(d.k, 2);
  EXPECT_EQ(d.ids, (std::vector<int32_t>{1, 3}));
  EXPECT_NEAR(d.weights[0], 0.5, 1e-6);  // raw probabilities, not renormalised
  EXPECT_NEAR(d.weights[1], 0.3, 1e-6);
}

TEST(TopPPolicy, BatchSlotsFitTheWidestTokenAndPadTheOthers) {
  // Token 0 needs 1 expert (0.7 crosses 0.4), token 1 needs 2 (0.3 then 0.3 + 0.3 crosses 0.4).
  TopPPolicy p({.p = 0.4f});
  std::vector<float> z = logits_of({0.7, 0.1, 0.1, 0.1});
  const std::vector<float> z1 = logits_of({0.3, 0.3, 0.2, 0.2});
  z.insert(z.end(), z1.begin(), z1.end());
  const auto d = run(p, kSoftmax4, z);
  ASSERT_EQ(d.k, 2);
  EXPECT_EQ(d.ids, (std::vector<int32_t>{0, kNoExpert, 0, 1}));
  EXPECT_EQ(d.weights[1], 0.0f);
  EXPECT_NEAR(d.weights[3], 0.3, 1e-6);
}

TEST(TopPPolicy, OneDominantExpertIsEnoughAndMinMaxClamp) {
  const auto z = logits_of({0.7, 0.1, 0.1, 0.1});
  TopPPolicy one({.p = 0.4f});
  EXPECT_EQ(run(one, kSoftmax4, z).ids, (std::vector<int32_t>{0}));
  TopPPolicy at_least_two({.p = 0.4f, .min = 2, .max = 3});
  const auto d = run(at_least_two, kSoftmax4, z);
  EXPECT_EQ(d.ids, (std::vector<int32_t>{0, 1}));  // MIN 2; ties at 0.1 keep the lower id first
  TopPPolicy capped({.p = 0.99f, .max = 2});
  EXPECT_EQ(run(capped, kSoftmax4, z).ids, (std::vector<int32_t>{0, 1}));
}

TEST(TopPPolicy, RenormalisesWhenAsked) {
  TopPPolicy p({.p = 0.6f, .renormalize = true});
  const auto d = run(p, kSoftmax4, logits_of({0.15, 0.5, 0.05, 0.3}));
  EXPECT_NEAR(d.weights[0], 0.5 / 0.8, 1e-6);
  EXPECT_NEAR(d.weights[1], 0.3 / 0.8, 1e-6);
}

TEST(TopPPolicy, SigmoidScoresAreNormalisedToMassOne) {
  // sigmoid(0) = 0.5 each of 4: mass 0.25 each; P = 0.3 keeps 2 (0.25 <= 0.3, 0.5 crosses). The weights are
  // the native ones: the unbiased sigmoid scores (this router does not renormalise).
  TopPPolicy p({.p = 0.3f});
  const RoutingConfig c{.gating = Gating::kSigmoid, .n_expert = 4, .n_used = 2};
  const auto d = run(p, c, {0.0f, 0.0f, 0.0f, 0.0f});
  EXPECT_EQ(d.ids, (std::vector<int32_t>{0, 1}));
  EXPECT_NEAR(d.weights[0], 0.5, 1e-6);
}

// DeepSeek-V3's rule in small: sigmoid, 8 experts in 4 groups of 2, 2 groups kept, k 2, renormalised, x2.5.
const RoutingConfig kGrouped{.gating = Gating::kSigmoid,
                             .n_expert = 8,
                             .n_used = 2,
                             .norm_weights = true,
                             .weight_scale = 2.5f,
                             .n_group = 4,
                             .n_group_used = 2};

TEST(TopPPolicy, HonoursTheGroupLimitAndTheRoutedScale) {
  // Expert 0 is the single best, but its group {0, 1} scores sigmoid(3) + sigmoid(-5) = 0.96, below groups
  // {2, 3} (1.46) and {4, 5} (1.24): only experts 2-5 may be chosen. P = 0.99 takes all four.
  TopPPolicy p({.p = 0.99f});
  const auto d = run(p, kGrouped, {3.0f, -5.0f, 1.0f, 1.0f, 0.5f, 0.5f, -1.0f, -1.0f});
  EXPECT_EQ(d.ids, (std::vector<int32_t>{2, 3, 4, 5}));
  float sum = 0.0f;
  for (float w : d.weights) sum += w;
  EXPECT_NEAR(sum, 2.5f, 1e-5);  // renormalised as the model does, then the routed scaling factor
  const float s1 = 1.0f / (1.0f + std::exp(-1.0f)), s05 = 1.0f / (1.0f + std::exp(-0.5f));
  EXPECT_NEAR(d.weights[0], 2.5f * s1 / (2 * s1 + 2 * s05), 1e-5);
}

TEST(TopPPolicy, WithPGivingTheModelsKItIsTheNativeDecisionBitForBit) {
  // Random logits and selection bias; per token, P halfway between the mass of the native k-1 and k best
  // allowed experts, so the dynamic count is exactly k.
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  std::vector<float> bias(8);
  for (float& b : bias) b = 0.3f * normal(rng);
  for (const RoutingConfig& c :
       {kGrouped,
        RoutingConfig{
            .gating = Gating::kSoftmax, .n_expert = 8, .n_used = 3, .norm_weights = true, .weight_scale = 16.0f}}) {
    for (int token = 0; token < 50; ++token) {
      std::vector<float> z(8);
      for (float& v : z) v = normal(rng);
      NativeRoutingPolicy native;
      const auto want = run(native, c, z, 0, bias.data());
      NativeGate gate;
      gate.run(c, z.data(), bias.data());
      double allowed = 0.0, before = 0.0;
      for (int32_t e = 0; e < 8; ++e)
        if (gate.scores()[e] > -INFINITY) allowed += gate.probs()[e];
      for (int32_t j = 0; j + 1 < c.n_used; ++j) before += gate.probs()[want.ids[j]];
      const double at = before + gate.probs()[want.ids[c.n_used - 1]];
      TopPPolicy top_p({.p = static_cast<float>((before + at) / 2.0 / allowed)});
      const auto got = run(top_p, c, z, 0, bias.data());
      ASSERT_EQ(got.ids, want.ids) << "token " << token;
      for (size_t j = 0; j < want.weights.size(); ++j)
        EXPECT_EQ(got.weights[j], want.weights[j]) << "token " << token << " slot " << j;  // bit for bit
    }
  }
}

TEST(TopPPolicy, NeverChoosesAMaskedExpert) {
  // Expert 3 has the best logit and a large bias; masked, it is never chosen, even with P = 1 and MIN 4.
  std::vector<std::vector<uint8_t>> off = {{0, 0, 0, 1, 0, 0, 0, 0}};
  const std::vector<float> bias = {0, 0, 0, 5, 0, 0, 0, 0};
  const std::vector<float> z = {0.5f, 0.4f, 2.0f, 4.0f, 0.3f, 0.2f, 0.1f, 0.0f};
  for (const RoutingConfig& c : {kGrouped, RoutingConfig{.gating = Gating::kSoftmax, .n_expert = 8, .n_used = 2}}) {
    MaskedPolicy p(off, std::make_unique<TopPPolicy>(TopPParams{.p = 1.0f, .min = 4}));
    const auto d = run(p, c, z, 0, bias.data());
    EXPECT_GE(d.k, 2);
    for (int32_t id : d.ids) EXPECT_NE(id, 3);
  }
}

TEST(MaskedPolicy, DisabledExpertsAreNeverChosenAndTheRestRenormalise) {
  // Layer 1 disables expert 1 (p 0.4): softmax over {0.1, 0.3, 0.2} / 0.6.
  std::vector<std::vector<uint8_t>> off(2);
  off[1] = {0, 1, 0, 0};
  MaskedPolicy p(off, std::make_unique<NativeRoutingPolicy>());
  const auto z = logits_of({0.1, 0.4, 0.3, 0.2});
  const auto masked = run(p, kSoftmax4, z, /*layer=*/1);
  EXPECT_EQ(masked.ids, (std::vector<int32_t>{2, 3}));
  EXPECT_NEAR(masked.weights[0], 0.3 / 0.6, 1e-6);
  EXPECT_NEAR(masked.weights[1], 0.2 / 0.6, 1e-6);
  EXPECT_EQ(run(p, kSoftmax4, z, /*layer=*/0).ids, (std::vector<int32_t>{1, 2}));  // layer 0 untouched
}

TEST(MaskedPolicy, HoldsForSigmoidRoutersWithBias) {
  std::vector<std::vector<uint8_t>> off = {{0, 0, 0, 1}};
  MaskedPolicy p(off, std::make_unique<NativeRoutingPolicy>());
  const RoutingConfig c{.gating = Gating::kSigmoid, .n_expert = 4, .n_used = 1};
  const std::vector<float> bias = {0.0f, 0.0f, 0.0f, 5.0f};  // would pick expert 3
  EXPECT_EQ(run(p, c, {1.0f, 0.0f, 0.0f, 0.0f}, 0, bias.data()).ids[0], 0);
}

TEST(BiasedPolicy, BiasChoosesButDoesNotWeigh) {
  // p = 0.1 0.4 0.3 0.2; +0.25 on expert 3 → scores 0.1 0.4 0.3 0.45 → picks 3 then 1, weights unbiased.
  BiasedPolicy p({{0.0f, 0.0f, 0.0f, 0.25f}}, std::make_unique<NativeRoutingPolicy>());
  const auto d = run(p, kSoftmax4, logits_of({0.1, 0.4, 0.3, 0.2}));
  EXPECT_EQ(d.ids, (std::vector<int32_t>{3, 1}));
  EXPECT_NEAR(d.weights[0], 0.2, 1e-6);
  EXPECT_NEAR(d.weights[1], 0.4, 1e-6);
}

TEST(UniformRandomPolicy, DistinctExpertsEqualWeightsReproducible) {
  const RoutingConfig c{.gating = Gating::kSoftmax, .n_expert = 8, .n_used = 3};
  std::vector<float> z(8 * 50, 0.0f);
  UniformRandomPolicy a(42), b(42), other(43);
  const auto da = run(a, c, z), db = run(b, c, z), dother = run(other, c, z);
  EXPECT_EQ(da.ids, db.ids);
  EXPECT_NE(da.ids, dother.ids);
  std::vector<int> load(8, 0);
  for (int64_t t = 0; t < da.n_tokens; ++t) {
    const auto ids = da.ids_of(t);
    EXPECT_NE(ids[0], ids[1]);
    EXPECT_NE(ids[1], ids[2]);
    EXPECT_NE(ids[0], ids[2]);
    for (int32_t id : ids) ++load[static_cast<size_t>(id)];
  }
  for (int n : load) EXPECT_GT(n, 0);  // 150 draws over 8 experts: every one is hit
  EXPECT_NEAR(da.weights[0], 1.0f / 3.0f, 1e-7);
}

TEST(PerLayerPolicy, RoutesEachLayerItsOwnWay) {
  PerLayerPolicy p({nullptr, std::make_shared<TopKPolicy>(1)}, std::make_shared<NativeRoutingPolicy>());
  const auto z = logits_of({0.1, 0.4, 0.3, 0.2});
  EXPECT_EQ(run(p, kSoftmax4, z, 0).k, 2);
  EXPECT_EQ(run(p, kSoftmax4, z, 1).k, 1);
  EXPECT_EQ(run(p, kSoftmax4, z, 5).k, 2);
}

// ---- spec parsing ----

std::vector<MoeLayerInfo> three_layers() {
  // Block 0 is dense; 1-3 are MoE with 4 experts, k 2.
  return {{1, kSoftmax4}, {2, kSoftmax4}, {3, kSoftmax4}};
}

TEST(RoutingSpec, NativeByDefaultBuildsNothing) {
  auto b = build_routing_policy({}, three_layers(), 4);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->policy, nullptr);
  EXPECT_EQ(b->max_slots, 2);
  EXPECT_EQ(b->description, "1=native,2=native,3=native");
}

TEST(RoutingSpec, PerLayerEntriesAndDefault) {
  auto b = build_routing_policy({.route = "1-2=top-p:0.5:1:3,top-k:1"}, three_layers(), 4);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->max_slots, 3);
  EXPECT_EQ(b->description, "1=top-p:0.5:1:3,2=top-p:0.5:1:3,3=top-k:1");
  const auto z = logits_of({0.1, 0.4, 0.3, 0.2});
  EXPECT_EQ(run(*b->policy, kSoftmax4, z, 3).ids, (std::vector<int32_t>{1}));
  EXPECT_EQ(run(*b->policy, kSoftmax4, z, 1).ids, (std::vector<int32_t>{1, 2}));  // 0.4, then 0.7 crosses 0.5
}

TEST(RoutingSpec, ExpertsPerTokenAndRangesSpanningDenseBlocks) {
  auto b = build_routing_policy({.route = "0-1=native", .experts_per_token = 3}, three_layers(), 4);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->description, "1=native,2=top-k:3,3=top-k:3");
}

TEST(RoutingSpec, ErrorsNameWhatIsWrong) {
  auto expect_error = [](RoutingSpec spec, const char* text) {
    auto b = build_routing_policy(spec, three_layers(), 4);
    ASSERT_FALSE(b) << spec.route;
    EXPECT_NE(b.error().message.find(text), std::string::npos) << b.error().message;
  };
  expect_error({.route = "top-q:1"}, "unknown policy 'top-q:1'");
  expect_error({.route = "top-p:1.5"}, "0 < P <= 1");
  expect_error({.route = "top-p:0.5:3:2"}, "MIN 3 > MAX 2");
  expect_error({.route = "top-k:5"}, "needs 5 experts per token but only 4");
  expect_error({.route = "0=top-k:1"}, "layer 0 has no MoE router");
  expect_error({.route = "2-9=native"}, "outside the model's 0-3");
  expect_error({.route = "1=native,1-2=top-k:1"}, "layer 1 already has policy native");
  expect_error({.route = "native,top-k:1"}, "a default policy is already given");
  expect_error({.route = "x=native"}, "'x' is not a layer range");
  expect_error({.mask_text = "1: 0 1 2\n", .mask_source = "m.txt"}, "(after the expert mask)");
  expect_error({.mask_text = "# c\n1: 7\n", .mask_source = "m.txt"}, "m.txt:2: expert 7 is outside layer 1's 0-3");
  expect_error({.mask_text = "1 0\n", .mask_source = "m.txt"}, "m.txt:1: expected 'LAYERS: values'");
  expect_error({.bias_text = "*: 1 2 3\n", .bias_source = "b.txt"}, "b.txt:1: layer 1 needs 4 bias values");
  expect_error({.bias_text = "2: 1 2 nan 0\n", .bias_source = "b.txt"}, "'nan' is not a finite number");
}

TEST(RoutingSpec, MaskAndBiasFilesCompose) {
  auto b = build_routing_policy({.mask_text = "1-2: 1  # prune expert 1\n",
                                 .mask_source = "m",
                                 .bias_text = "3: 0, 0, 0, 0.25\n",
                                 .bias_source = "b"},
                                three_layers(), 4);
  ASSERT_TRUE(b) << b.error().message;
  const auto z = logits_of({0.1, 0.4, 0.3, 0.2});
  EXPECT_EQ(run(*b->policy, kSoftmax4, z, 1).ids, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(run(*b->policy, kSoftmax4, z, 3).ids, (std::vector<int32_t>{3, 1}));
}

}  // namespace
}  // namespace sy::moe
