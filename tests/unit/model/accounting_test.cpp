// Parameter accounting on a configuration small enough to count by hand.
#include "model/accounting.h"

#include <gtest/gtest.h>

#include "model/tensor_table.h"

namespace sy::model {
namespace {

// vocab 10, d 4, 2 layers: layer 0 dense (ff 6), layer 1 MoE with E = 4 experts of width 3, k = 1, and a
// shared expert of width 2. GQA: 2 heads, 1 kv head, head dim 2; no biases or q/k norms.
ModelConfig hand_config() {
  ModelConfig c;
  c.common = {.arch = "test",
              .n_vocab = 10,
              .n_embd = 4,
              .n_layer = 2,
              .n_ctx_train = 16,
              .rms_eps = 1e-6f,
              .output_optional = false};
  LayerRecipe l;
  l.attn.kind = AttentionKind::kGqa;
  l.attn.gqa = {.n_head = 2, .n_head_kv = 1, .head_dim_k = 2, .head_dim_v = 2};
  l.ffn.kind = FfnKind::kDense;
  l.ffn.n_ff = 6;
  c.layers.push_back(l);
  l.ffn.kind = FfnKind::kMoe;
  l.ffn.moe.routing.n_expert = 4;
  l.ffn.moe.routing.n_used = 1;
  l.ffn.moe.n_ff_exp = 3;
  l.ffn.moe.n_ff_shared = 2;
  c.layers.push_back(l);
  return c;
}

TEST(Accounting, CountsByHand) {
  const ModelConfig c = hand_config();
  const auto table = tensor_table(c);
  const Accounting a = account(c, f32_costs(table));
  // embedding 10·4, output 10·4, output_norm 4
  EXPECT_EQ(a.params_of(Placement::kEmbedding), 40);
  EXPECT_EQ(a.params_of(Placement::kOutput), 40);
  // attention per layer: q 4·4 + k 4·2 + v 4·2 + o 4·4 = 48
  EXPECT_EQ(a.params_of(Placement::kAttention), 96);
  // norms: output_norm 4 + per layer attn_norm 4 + ffn_norm 4
  EXPECT_EQ(a.params_of(Placement::kNorm), 4 + 2 * 8);
  EXPECT_EQ(a.params_of(Placement::kDenseFfn), 3 * 4 * 6);
  EXPECT_EQ(a.params_of(Placement::kRouter), 4 * 4);
  EXPECT_EQ(a.params_of(Placement::kRoutedExpert), 3 * 4 * 3 * 4);  // 144
  EXPECT_EQ(a.params_of(Placement::kSharedExpert), 3 * 4 * 2);      // 24
  const int64_t total = 40 + 40 + 96 + 20 + 72 + 16 + 144 + 24;
  EXPECT_EQ(a.total_params, total);
  // One of four experts runs: 144 · 3/4 of the routed weights are idle per token.
  EXPECT_DOUBLE_EQ(a.active_params, static_cast<double>(total) - 144.0 * 3.0 / 4.0);
  EXPECT_EQ(a.total_bytes, static_cast<uint64_t>(total) * 4);
  // Active bytes read one embedding row (4 floats), not all 10.
  EXPECT_DOUBLE_EQ(a.active_bytes, (static_cast<double>(total) - 108.0 - 36.0) * 4.0);
  ASSERT_EQ(a.expert_layers.size(), 1u);
  EXPECT_EQ(a.expert_layers[0].layer, 1);
  EXPECT_EQ(a.expert_layers[0].n_expert, 4);
  EXPECT_EQ(a.expert_layers[0].params_per_expert, 36);  // gate 4·3 + up 4·3 + down 3·4
  EXPECT_EQ(a.expert_layers[0].bytes_per_expert, 144u);
}

TEST(Accounting, DenseModelIsAllActive) {
  ModelConfig c = hand_config();
  c.layers[1] = c.layers[0];
  const auto table = tensor_table(c);
  const Accounting a = account(c, f32_costs(table));
  EXPECT_DOUBLE_EQ(a.active_params, static_cast<double>(a.total_params));
  EXPECT_TRUE(a.expert_layers.empty());
}

}  // namespace
}  // namespace sy::model
