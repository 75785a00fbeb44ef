// The architecture specs against the conformance files: every model loads a config whose tensor table
// matches the file exactly (names and shapes), and binding reports every mismatch by name.
#include <gtest/gtest.h>

#include <set>

#include "format/gguf_reader.h"
#include "model/arch_spec.h"
#include "model/tensor_table.h"
#include "model/weights.h"
#include "support/test_support.h"

namespace sy::model {
namespace {

TEST(ArchSpec, TableMatchesEveryConformanceFile) {
  for (const auto& path : test::conformance_models()) {
    SCOPED_TRACE(path.filename().string());
    auto file = gguf::File::open(path);
    ASSERT_TRUE(file) << file.error().message;
    auto config = load_config(*file);
    ASSERT_TRUE(config) << config.error().message;
    std::set<std::string> listed;
    for (const TensorSpec& s : tensor_table(*config)) {
      listed.insert(s.name);
      const gguf::TensorInfo* t = file->find_tensor(s.name);
      if (t == nullptr) {
        EXPECT_FALSE(s.required) << s.name;
        continue;
      }
      for (int i = 0; i < 3; ++i) EXPECT_EQ(t->ne[static_cast<size_t>(i)], s.shape[static_cast<size_t>(i)]) << s.name;
    }
    // Every tensor in the file is one the table knows.
    for (const auto& t : file->tensors()) EXPECT_TRUE(listed.count(t.name)) << t.name << " not in the table";
  }
}

TEST(ArchSpec, RecipesFollowTheFamilies) {
  auto file = gguf::File::open(test::conformance_dir() / "models" / "deepseek3-tiny.f32.gguf");
  ASSERT_TRUE(file);
  auto c = load_config(*file);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->layers.size(), 3u);
  EXPECT_EQ(c->layers[0].ffn.kind, FfnKind::kDense);
  const MoeRecipe& m = c->layers[1].ffn.moe;
  EXPECT_EQ(m.routing.gating, moe::Gating::kSigmoid);
  EXPECT_EQ(m.routing.n_group, 4);
  EXPECT_EQ(m.routing.n_group_used, 2);
  EXPECT_TRUE(m.routing.norm_weights);
  EXPECT_FLOAT_EQ(m.routing.weight_scale, 2.5f);
  EXPECT_TRUE(m.selection_bias);
  EXPECT_EQ(c->layers[1].attn.mla.q_lora_rank, 64);

  auto lite = gguf::File::open(test::conformance_dir() / "models" / "deepseek2-lite-tiny.f32.gguf");
  ASSERT_TRUE(lite);
  auto cl = load_config(*lite);
  ASSERT_TRUE(cl) << cl.error().message;
  EXPECT_EQ(cl->layers[1].attn.mla.q_lora_rank, 0);
  EXPECT_EQ(cl->layers[1].ffn.moe.n_ff_shared, 64);
  EXPECT_FALSE(cl->layers[1].ffn.moe.selection_bias);

  auto oss = gguf::File::open(test::conformance_dir() / "models" / "gpt-oss-tiny.f32.gguf");
  ASSERT_TRUE(oss);
  auto co = load_config(*oss);
  ASSERT_TRUE(co) << co.error().message;
  EXPECT_EQ(co->layers[0].attn.sliding_window, 16);
  EXPECT_EQ(co->layers[1].attn.sliding_window, 0);
  EXPECT_EQ(co->layers[2].attn.sliding_window, 16);
}

TEST(ArchSpec, BindNamesEveryMismatch) {
  auto file = gguf::File::open(test::conformance_dir() / "models" / "qwen3moe-tiny.f32.gguf");
  ASSERT_TRUE(file);
  auto config = load_config(*file);
  ASSERT_TRUE(config);
  ASSERT_TRUE(bind_weights(*file, *config));
  // Pretend the experts are wider and there is a shared expert: every affected tensor is named.
  ModelConfig wrong = *config;
  for (auto& l : wrong.layers) {
    l.ffn.moe.n_ff_exp = 48;
    l.ffn.moe.n_ff_shared = 32;
  }
  auto bound = bind_weights(*file, wrong);
  ASSERT_FALSE(bound);
  const std::string& msg = bound.error().message;
  EXPECT_NE(msg.find("blk.0.ffn_gate_exps.weight: shape [64, 64, 16] but expected [64, 48, 16]"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("blk.2.ffn_down_exps.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("blk.1.ffn_up_shexp.weight: missing"), std::string::npos) << msg;
}

TEST(ArchSpec, UnknownArchitectureIsAnError) {
  EXPECT_EQ(find_arch("mamba"), nullptr);
  EXPECT_NE(find_arch("qwen3moe"), nullptr);
}

}  // namespace
}  // namespace sy::model
