// Pruning against masking on every conformance model (every family and type): the file `prune` writes without
// some experts must compute the same logits as the full file run with those experts masked (--expert-mask), to
// 1e-5. Group-limited routing (DeepSeek-V3) keeps the same number of experts in every group, as prune requires.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "model/model.h"
#include "model/prune.h"
#include "moe/policies/routing_spec.h"
#include "runtime/session.h"
#include "support/test_support.h"

namespace sy {
namespace {

namespace fs = std::filesystem;

class PruneConformance : public ::testing::TestWithParam<fs::path> {};

std::vector<float> logits_of(const model::Model& m, const std::string& mask_text) {
  const auto& cfg = m.config();
  std::vector<moe::MoeLayerInfo> layers;
  for (int32_t l = 0; l < static_cast<int32_t>(cfg.layers.size()); ++l)
    if (cfg.layers[static_cast<size_t>(l)].ffn.kind == model::FfnKind::kMoe)
      layers.push_back({.layer = l, .config = cfg.layers[static_cast<size_t>(l)].ffn.moe.routing});
  runtime::Session session(m, runtime::SessionOptions{.n_ctx = 32, .n_threads = 1});
  if (!mask_text.empty()) {
    auto built = moe::build_routing_policy({.mask_text = mask_text, .mask_source = "mask"}, layers,
                                           static_cast<int32_t>(cfg.layers.size()));
    EXPECT_TRUE(built) << built.error().message;
    if (built && built->policy) session.set_policy(std::move(built->policy));
  }
  std::vector<int32_t> tokens;
  for (int32_t i = 0; i < 12; ++i) tokens.push_back(static_cast<int32_t>((1 + 37 * i) % cfg.common.n_vocab));
  std::vector<float> logits;
  EXPECT_TRUE(session.eval(tokens, logits));
  return logits;
}

TEST_P(PruneConformance, PrunedFileEqualsMaskedExperts) {
  const fs::path path = GetParam();
  ASSERT_FALSE(path.empty()) << "no conformance models in " << test::conformance_dir() / "models";
  auto full = model::Model::open(path);
  ASSERT_TRUE(full) << full.error().message;
  const auto& cfg = (*full)->config();
  // Per MoE layer, drop d experts in every group, a different choice per layer.
  std::string mask;
  for (size_t l = 0; l < cfg.layers.size(); ++l) {
    if (cfg.layers[l].ffn.kind != model::FfnKind::kMoe) continue;
    const moe::RoutingConfig& r = cfg.layers[l].ffn.moe.routing;
    const int32_t per_group = r.n_expert / r.n_group;
    const int32_t need = (r.n_used + r.n_group_used - 1) / r.n_group_used;  // per group, for top-k to be reachable
    const int32_t d = std::min(per_group / 2, per_group - need);
    ASSERT_GE(d, 1) << path << " layer " << l << ": no expert can be pruned";
    mask += fmt::format("{}:", l);
    for (int32_t g = 0; g < r.n_group; ++g)
      for (int32_t j = 0; j < d; ++j)
        mask += fmt::format(" {}", g * per_group + (static_cast<int32_t>(l) + g + 2 * j) % per_group);
    mask += "\n";
  }
  const fs::path dir = test::scratch_dir("prune_" + test::model_param_name(path));
  const fs::path mask_path = dir / "mask.txt";
  std::ofstream(mask_path) << mask;
  const fs::path out = dir / "pruned.gguf";
  auto summary = model::prune_experts(path, mask_path, out);
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_LT(summary->n_expert_after, summary->n_expert_before);
  EXPECT_LT(summary->bytes_after, summary->bytes_before);
  auto pruned = model::Model::open(out);
  ASSERT_TRUE(pruned) << pruned.error().message;

  const std::vector<float> want = logits_of(**full, mask);
  const std::vector<float> got = logits_of(**pruned, "");
  ASSERT_EQ(want.size(), got.size());
  ASSERT_FALSE(want.empty());
  float worst = 0.0f;
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(want[i] - got[i]));
  EXPECT_LE(worst, 1e-5f) << path;
  fs::remove_all(dir);
}

std::string model_name(const ::testing::TestParamInfo<fs::path>& param) { return test::model_param_name(param.param); }

INSTANTIATE_TEST_SUITE_P(AllModels, PruneConformance, ::testing::ValuesIn(test::conformance_model_params()),
                         model_name);

}  // namespace
}  // namespace sy
