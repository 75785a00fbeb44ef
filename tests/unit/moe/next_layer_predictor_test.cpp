// The cross-layer predictor on hand-made routers: layer 2's router applied to layer 1's router input picks
// the experts worked out by hand, predicted() hands them out by position, and recall counts hits.
#include "moe/predict/next_layer_predictor.h"

#include <gtest/gtest.h>

#include <vector>

namespace sy::moe {
namespace {

kernels::MatrixView f32_matrix(const std::vector<float>& w, int64_t rows, int64_t cols) {
  return {.type = TensorType::kF32,
          .n_cols = cols,
          .n_rows = rows,
          .data = reinterpret_cast<const uint8_t*>(w.data()),
          .row_stride = static_cast<size_t>(cols) * sizeof(float)};
}

TEST(NextLayerPredictor, PredictsWithTheNextRouterAndScoresRecall) {
  // Next layer's router (4 experts, embedding 2): logits = [x0, x1, x0 + x1, -x0].
  const std::vector<float> router2 = {1, 0, 0, 1, 1, 1, -1, 0};
  const std::vector<float> router1(8, 0.0f);  // unused: layer 1 is first, nothing predicts it
  const RoutingConfig cfg{.gating = Gating::kSoftmax, .n_expert = 4, .n_used = 2};
  NextLayerPredictor p({{.layer = 1, .config = cfg, .router = f32_matrix(router1, 4, 2)},
                        {.layer = 2, .config = cfg, .router = f32_matrix(router2, 4, 2)}});
  // Two tokens at positions 5, 6. Token 0 x = (2, 1): logits 2 1 3 -2 → {2, 0}. Token 1 x = (-1, 3): -1 3 2 1 → {1, 2}.
  const std::vector<float> hidden = {2, 1, -1, 3};
  RoutingDecision d1{.n_tokens = 2, .k = 2, .ids = {0, 1, 2, 3}, .weights = {.5f, .5f, .5f, .5f}};
  p.on_routing({.layer = 1, .pos0 = 5, .decision = &d1, .hidden = hidden.data(), .n_embd = 2, .config = &cfg});
  EXPECT_TRUE(p.predicted(1, 5).empty());
  const auto p0 = p.predicted(2, 5), p1 = p.predicted(2, 6);
  EXPECT_EQ(std::vector<int32_t>(p0.begin(), p0.end()), (std::vector<int32_t>{2, 0}));
  EXPECT_EQ(std::vector<int32_t>(p1.begin(), p1.end()), (std::vector<int32_t>{1, 2}));
  EXPECT_TRUE(p.predicted(2, 7).empty());
  // Layer 2 really chooses {2, 3} and {1, 2}: 3 of 4 predicted.
  RoutingDecision d2{.n_tokens = 2, .k = 2, .ids = {2, 3, 1, 2}, .weights = {.5f, .5f, .5f, .5f}};
  p.on_routing({.layer = 2, .pos0 = 5, .decision = &d2, .hidden = hidden.data(), .n_embd = 2, .config = &cfg});
  EXPECT_EQ(p.recall()[0].chosen, 0u);
  EXPECT_EQ(p.recall()[1].hits, 3u);
  EXPECT_EQ(p.recall()[1].chosen, 4u);
}

}  // namespace
}  // namespace sy::moe
