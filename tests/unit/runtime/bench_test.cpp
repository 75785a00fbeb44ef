// The bench protocol on a tiny conformance model: result shapes, the routed-bytes count, and bad tests.
// Nothing here depends on how fast the machine is.
#include "runtime/bench.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.h"

namespace sy::runtime {
namespace {

struct Loaded {
  std::unique_ptr<model::Model> model;
  model::DecodeCost cost;
};

Loaded load(const char* name) {
  auto m = model::Model::open(test::conformance_dir() / "models" / name);
  if (!m) {
    ADD_FAILURE() << m.error().message;
    return {};
  }
  Loaded l{std::move(*m), {}};
  l.cost = model::decode_cost(l.model->config(), model::file_costs(l.model->config(), l.model->file()));
  return l;
}

TEST(Bench, PromptTestTimesEveryRepetition) {
  const Loaded l = load("qwen3moe-tiny.q8_0.gguf");
  ASSERT_NE(l.model, nullptr);
  auto r = run_bench_test(*l.model, l.cost, {.n_prompt = 6, .n_threads = 2, .repetitions = 3});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->samples_ts.size(), 3u);
  ASSERT_EQ(r->samples_seconds.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(r->samples_ts[i], 6.0 / r->samples_seconds[i]);
  EXPECT_TRUE(std::isfinite(r->mean_ts));
  EXPECT_GT(r->mean_ts, 0);
  EXPECT_EQ(r->bytes_per_token, 0);
}

TEST(Bench, GenerationCountsTheExpertsNativeRoutingChooses) {
  const Loaded l = load("qwen3moe-tiny.q8_0.gguf");
  ASSERT_NE(l.model, nullptr);
  auto r = run_bench_test(*l.model, l.cost, {.n_gen = 4, .n_threads = 1, .repetitions = 1});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->samples_ts.size(), 1u);
  EXPECT_EQ(r->sd_ts, 0);
  // Native top-k sends every token to k distinct experts of every MoE layer.
  double expected = static_cast<double>(l.cost.fixed_bytes);
  for (size_t il = 0; il < l.model->config().layers.size(); ++il) {
    const auto& ffn = l.model->config().layers[il].ffn;
    if (ffn.kind == model::FfnKind::kMoe)
      expected += static_cast<double>(ffn.moe.routing.n_used) * static_cast<double>(l.cost.expert_bytes[il]);
  }
  EXPECT_DOUBLE_EQ(r->bytes_per_token, expected);
  EXPECT_GT(r->bytes_per_token, static_cast<double>(l.cost.min_bytes()));
  EXPECT_LT(r->bytes_per_token, static_cast<double>(l.cost.max_bytes()));
}

TEST(Bench, RejectsBadTests) {
  const Loaded l = load("qwen3moe-tiny.q8_0.gguf");
  ASSERT_NE(l.model, nullptr);
  EXPECT_FALSE(run_bench_test(*l.model, l.cost, {.n_prompt = 0, .n_gen = 0}));
  EXPECT_FALSE(run_bench_test(*l.model, l.cost, {.n_prompt = 4, .n_gen = 4}));
  EXPECT_FALSE(run_bench_test(*l.model, l.cost, {.n_gen = 4, .repetitions = 0}));
  const int64_t too_long = l.model->config().common.n_ctx_train + 1;
  auto r = run_bench_test(*l.model, l.cost, {.n_prompt = too_long});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("context"), std::string::npos) << r.error().message;
  const std::atomic<bool> stop{true};
  r = run_bench_test(*l.model, l.cost, {.n_gen = 2, .interrupt = &stop});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("interrupted"), std::string::npos) << r.error().message;
}

TEST(Bench, StatisticsAsLlamaBenchReportsThem) {
  EXPECT_DOUBLE_EQ(mean_of({1, 2, 3, 6}), 3.0);
  EXPECT_DOUBLE_EQ(sample_sd({1, 2, 3, 6}), std::sqrt(14.0 / 3.0));
  EXPECT_EQ(sample_sd({5}), 0);
  EXPECT_EQ(mean_of({}), 0);
  EXPECT_EQ(bench_test_name({.n_prompt = 64}), "pp64");
  EXPECT_EQ(bench_test_name({.n_gen = 32}), "tg32");
}

}  // namespace
}  // namespace sy::runtime
