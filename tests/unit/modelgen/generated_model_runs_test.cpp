// A generated model runs in switchyard's engine with finite logits and routing that uses the experts broadly
// (the reason routers get twice the scale of other matrices), for each architecture family.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "model/model.h"
#include "modelgen/generator.h"
#include "modelgen/presets.h"
#include "runtime/session.h"
#include "support/test_support.h"

namespace sy::modelgen {
namespace {

struct Counter : moe::RoutingObserver {
  std::vector<std::vector<int64_t>> counts;  // [layer][expert]
  void on_routing(const moe::RoutingEvent& e) override {
    if (counts.size() <= static_cast<size_t>(e.layer)) counts.resize(static_cast<size_t>(e.layer) + 1);
    auto& c = counts[static_cast<size_t>(e.layer)];
    for (int32_t id : e.decision->ids) {
      if (c.size() <= static_cast<size_t>(id)) c.resize(static_cast<size_t>(id) + 1);
      ++c[static_cast<size_t>(id)];
    }
  }
};

TEST(GeneratedModel, RunsWithFiniteLogitsAndSpreadRouting) {
  const auto dir = test::scratch_dir("gen_runs");
  for (const char* preset : {"qwen3moe-tiny", "olmoe-tiny", "mixtral-tiny", "qwen2moe-tiny", "deepseek2-lite-tiny",
                             "deepseek3-tiny", "gpt-oss-tiny"}) {
    SCOPED_TRACE(preset);
    auto meta = preset_metadata(*find_preset(preset), {});
    ASSERT_TRUE(meta);
    auto plan = plan_model(std::move(*meta), *parse_scheme("q8_0"));
    ASSERT_TRUE(plan) << plan.error().message;
    const auto path = dir / (std::string(preset) + ".gguf");
    ASSERT_TRUE(generate_model(path, *plan, {.seed = 3, .n_threads = 2, .on_progress = {}}));
    auto model = model::Model::open(path);
    ASSERT_TRUE(model) << model.error().message;
    runtime::Session session(**model, {.n_ctx = 256, .n_threads = 2});
    Counter counter;
    session.observers().add(&counter);
    std::vector<int32_t> tokens;
    for (int i = 0; i < 64; ++i) tokens.push_back((i * 97 + 13) % 500);
    std::vector<float> logits;
    ASSERT_TRUE(session.eval(tokens, logits));
    for (float v : logits) ASSERT_TRUE(std::isfinite(v));
    const auto [lo, hi] = std::minmax_element(logits.begin(), logits.end());
    EXPECT_GT(*hi - *lo, 1.0f) << "logits nearly constant";
    ASSERT_FALSE(counter.counts.empty());
    for (const auto& layer : counter.counts) {
      if (layer.empty()) continue;  // a dense layer
      const int32_t n_expert = plan->config.layers[1].ffn.moe.routing.n_expert;
      const int64_t total = std::accumulate(layer.begin(), layer.end(), int64_t{0});
      const auto used = std::count_if(layer.begin(), layer.end(), [](int64_t c) { return c > 0; });
      EXPECT_GE(used, n_expert * 3 / 4) << "experts used in a layer";
      EXPECT_LT(*std::max_element(layer.begin(), layer.end()), total / 2) << "one expert takes most tokens";
    }
  }
}

}  // namespace
}  // namespace sy::modelgen
