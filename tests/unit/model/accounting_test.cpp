// Parameter accounting on a configuration small enough to count by hand.
#include "model/accounting.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

#include "model/model.h"
#include "model/tensor_table.h"
#include "support/test_support.h"

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

// Block sizes as ggml defines them, written out here rather than taken from core/tensor_type.h.
std::pair<uint64_t, uint64_t> block_of(TensorType type) {
  static const std::map<TensorType, std::pair<uint64_t, uint64_t>> kBlocks = {
      {TensorType::kF32, {1, 4}},      {TensorType::kF16, {1, 2}},      {TensorType::kBF16, {1, 2}},
      {TensorType::kQ4_0, {32, 18}},   {TensorType::kQ4_1, {32, 20}},   {TensorType::kQ5_0, {32, 22}},
      {TensorType::kQ5_1, {32, 24}},   {TensorType::kQ8_0, {32, 34}},   {TensorType::kQ2_K, {256, 84}},
      {TensorType::kQ3_K, {256, 110}}, {TensorType::kQ4_K, {256, 144}}, {TensorType::kQ5_K, {256, 176}},
      {TensorType::kQ6_K, {256, 210}}, {TensorType::kMXFP4, {32, 17}}};
  const auto it = kBlocks.find(type);
  return it != kBlocks.end() ? it->second : std::pair<uint64_t, uint64_t>{0, 0};
}

// The decode cost recomputed from the file's tensor infos alone: names, shapes and element types.
TEST(Accounting, DecodeCostMatchesTheTensorInfosOfEveryConformanceModel) {
  int checked = 0;
  for (const auto& path : test::conformance_models()) {
    SCOPED_TRACE(path.filename().string());
    auto model = Model::open(path);
    ASSERT_TRUE(model) << model.error().message;
    const gguf::File& file = (*model)->file();
    const size_t n_layer = (*model)->config().layers.size();

    uint64_t fixed = 0, embedding = 0, embedding_rows = 0;
    bool has_output = false;
    std::vector<uint64_t> per_expert(n_layer, 0);
    std::vector<int32_t> n_expert(n_layer, 0);
    for (const gguf::TensorInfo& t : file.tensors()) {
      const auto [block_elems, block_bytes] = block_of(t.type);
      ASSERT_GT(block_elems, 0u) << t.name << ": add its type to block_of()";
      const uint64_t rows = static_cast<uint64_t>(t.ne[1] * t.ne[2] * t.ne[3]);
      const uint64_t bytes = static_cast<uint64_t>(t.ne[0]) / block_elems * block_bytes * rows;
      ASSERT_EQ(bytes, t.n_bytes) << t.name;
      if (t.name == "token_embd.weight") {
        embedding = bytes;
        embedding_rows = rows;
        continue;
      }
      if (t.name == "output.weight") has_output = true;
      if (t.name.find("_exps.") != std::string::npos) {
        const size_t layer = std::stoul(t.name.substr(4));  // "blk.N.ffn_..._exps.weight|bias"
        ASSERT_LT(layer, n_layer);
        const int64_t experts = t.ne[t.n_dims - 1];  // experts are the outermost dimension
        per_expert[layer] += bytes / static_cast<uint64_t>(experts);
        n_expert[layer] = static_cast<int32_t>(experts);
        continue;
      }
      fixed += bytes;
    }
    ASSERT_GT(embedding_rows, 0u);
    fixed += embedding / embedding_rows + (has_output ? 0 : embedding);

    const DecodeCost cost = decode_cost((*model)->config(), file_costs((*model)->config(), file));
    EXPECT_EQ(cost.fixed_bytes, fixed);
    EXPECT_EQ(cost.expert_bytes, per_expert);
    EXPECT_EQ(cost.n_expert, n_expert);
    uint64_t all = fixed;
    for (size_t l = 0; l < n_layer; ++l) all += per_expert[l] * static_cast<uint64_t>(n_expert[l]);
    EXPECT_EQ(cost.max_bytes(), all);
    // k experts in every MoE layer for each of 2 tokens: the mean is one token's k experts.
    std::vector<int64_t> counts(n_layer, 0);
    double expected = static_cast<double>(fixed);
    for (size_t l = 0; l < n_layer; ++l) {
      const auto& ffn = (*model)->config().layers[l].ffn;
      if (ffn.kind != FfnKind::kMoe) continue;
      counts[l] = 2 * ffn.moe.routing.n_used;
      expected += static_cast<double>(ffn.moe.routing.n_used) * static_cast<double>(per_expert[l]);
    }
    EXPECT_DOUBLE_EQ(cost.mean_bytes(counts, 2), expected);
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no conformance models found";
}

TEST(Accounting, TiedOutputHeadReadsTheWholeEmbedding) {
  ModelConfig c = hand_config();
  c.common.output_optional = true;
  std::vector<TensorCost> costs = f32_costs(tensor_table(c));
  const DecodeCost untied = decode_cost(c, costs);
  std::erase_if(costs, [](const TensorCost& t) { return t.placement == Placement::kOutput; });
  const DecodeCost tied = decode_cost(c, costs);
  // The 10×4 output head (160 bytes) is gone and the 10×4 embedding read in full instead: same bytes.
  EXPECT_EQ(tied.fixed_bytes, untied.fixed_bytes);
  ASSERT_EQ(untied.expert_bytes.size(), 2u);
  EXPECT_EQ(untied.expert_bytes[0], 0u);
  EXPECT_EQ(untied.expert_bytes[1], 144u);
  EXPECT_EQ(untied.n_expert[1], 4);
  // Fixed: everything but the experts and 9 of the 10 embedding rows.
  EXPECT_EQ(untied.fixed_bytes, (40u + 40 + 96 + 20 + 72 + 16 + 24) * 4 - 9 * 16);
  EXPECT_EQ(untied.max_bytes(), untied.fixed_bytes + 4 * 144);
}

}  // namespace
}  // namespace sy::model
