// Dense architectures (no conformance file has them): a small random-weight GGUF is written from the spec's
// own tensor table, then loaded and run. Checks that the table is complete for the recipe, that the forward
// pass handles dense FFNs on every layer, and that batch and token-by-token runs agree exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "model/arch_spec.h"
#include "model/model.h"
#include "model/tensor_table.h"
#include "runtime/session.h"
#include "support/test_support.h"

namespace sy::model {
namespace {

using Keys = std::vector<std::pair<std::string, gguf::Value>>;

// Writes metadata, then random F32 tensors for every entry of the table the metadata implies.
std::filesystem::path write_model(const std::string& name, const Keys& keys) {
  const auto dir = test::scratch_dir("dense_" + name);
  const auto meta_only = dir / "meta.gguf";
  {
    gguf::Writer w;
    for (const auto& [k, v] : keys) w.set(k, v);
    EXPECT_TRUE(w.begin(meta_only));
    EXPECT_TRUE(w.finish());
  }
  auto meta_file = gguf::File::open(meta_only);
  EXPECT_TRUE(meta_file);
  auto config = load_config(*meta_file);
  EXPECT_TRUE(config) << (config ? "" : config.error().message);
  const auto table = tensor_table(*config);
  const auto path = dir / (name + ".gguf");
  gguf::Writer w;
  for (const auto& [k, v] : keys) w.set(k, v);
  for (const auto& t : table) {
    std::vector<int64_t> ne(t.shape.begin(), t.shape.begin() + t.n_dims);
    EXPECT_TRUE(w.add_tensor({t.name, TensorType::kF32, ne}));
  }
  EXPECT_TRUE(w.begin(path));
  std::mt19937 rng(5);
  for (const auto& t : table) {
    // Norm weights near 1, everything else small: keeps the random network's activations tame.
    std::normal_distribution<float> dist(t.placement == Placement::kNorm ? 1.0f : 0.0f,
                                         t.placement == Placement::kNorm ? 0.1f : 0.2f);
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    for (float& x : v) x = dist(rng);
    EXPECT_TRUE(w.write_tensor_data({reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float)}));
  }
  EXPECT_TRUE(w.finish());
  return path;
}

void run_and_check(const std::filesystem::path& path) {
  auto m = Model::open(path);
  ASSERT_TRUE(m) << m.error().message;
  for (const auto& l : (*m)->config().layers) EXPECT_EQ(l.ffn.kind, FfnKind::kDense);
  const std::vector<int32_t> tokens = {3, 17, 5, 29, 11, 2};
  runtime::Session batch(**m, {.n_ctx = 8, .n_threads = 2});
  std::vector<float> all;
  ASSERT_TRUE(batch.eval(tokens, all));
  for (float x : all) ASSERT_TRUE(std::isfinite(x));
  runtime::Session steps(**m, {.n_ctx = 8, .n_threads = 1});
  std::vector<float> one, joined;
  for (int32_t t : tokens) {
    ASSERT_TRUE(steps.eval(std::span<const int32_t>(&t, 1), one));
    joined.insert(joined.end(), one.begin(), one.end());
  }
  // Token by token takes llama.cpp's single-token F32 orders (vec_dot, not tinyBLAS): float noise, no more.
  ASSERT_EQ(all.size(), joined.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_NEAR(all[i], joined[i], 1e-4f) << "logit " << i;
}

TEST(DenseModels, Llama) {
  run_and_check(write_model("llama", {{"general.architecture", "llama"},
                                      {"llama.embedding_length", uint32_t{32}},
                                      {"llama.block_count", uint32_t{2}},
                                      {"llama.feed_forward_length", uint32_t{64}},
                                      {"llama.attention.head_count", uint32_t{4}},
                                      {"llama.attention.head_count_kv", uint32_t{2}},
                                      {"llama.rope.dimension_count", uint32_t{8}},
                                      {"llama.vocab_size", uint32_t{40}}}));
}

TEST(DenseModels, Qwen3) {
  run_and_check(write_model("qwen3", {{"general.architecture", "qwen3"},
                                      {"qwen3.embedding_length", uint32_t{32}},
                                      {"qwen3.block_count", uint32_t{2}},
                                      {"qwen3.feed_forward_length", uint32_t{48}},
                                      {"qwen3.attention.head_count", uint32_t{2}},
                                      {"qwen3.attention.head_count_kv", uint32_t{1}},
                                      {"qwen3.attention.key_length", uint32_t{16}},
                                      {"qwen3.attention.value_length", uint32_t{16}},
                                      {"qwen3.vocab_size", uint32_t{40}}}));
}

}  // namespace
}  // namespace sy::model
