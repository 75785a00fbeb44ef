// --on-miss (docs/expert-cache.md) on every conformance model and the bundled model: skip:0 never skips and gives
// the resident bits; skip:1 under the smallest cache skips and still gives finite logits; low-bit with a q4_0
// shadow of the same model gives finite logits close to the resident ones and uses the shadow; a shadow holds the
// model's expert tensors requantised within the type's error bound, and another model's shadow is refused.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "kernels/quant/quant.h"
#include "model/model.h"
#include "model/shadow.h"
#include "moe/cache/slab_cache_store.h"
#include "runtime/engine.h"
#include "runtime/expert_cache_setup.h"
#include "runtime/sampler.h"
#include "support/test_support.h"

namespace sy {
namespace {

constexpr int kDecodeSteps = 4;
constexpr int kThreads = 2;

// Prompt logits (every row), then the last row of each decode step; the tokens are fixed (not the argmax) so a
// lossy run sees the same inputs as the resident one. `options` nullptr: resident.
std::vector<std::vector<float>> run(const model::Model& m, const runtime::ExpertCacheOptions* options,
                                    moe::ExpertStoreStats* stats = nullptr) {
  runtime::Engine engine(m, {.n_threads = kThreads});
  if (options) {
    auto st = runtime::apply_expert_cache(engine, *options, nullptr);
    EXPECT_TRUE(st) << (st ? "" : st.error().message);
  }
  auto seq = engine.new_sequence({.n_ctx = 64});
  const auto V = static_cast<int32_t>(engine.n_vocab());
  const std::vector<int32_t> prompt = {1 % V, 17 % V, 230 % V, 4 % V, 99 % V, 7 % V, 1234 % V};
  std::vector<std::vector<float>> out;
  EXPECT_TRUE(engine.step(*seq, prompt));
  out.emplace_back(seq->logits().begin(), seq->logits().end());
  for (int s = 0; s < kDecodeSteps; ++s) {
    const int32_t next = (31 * s + 5) % V;
    auto st = engine.step(*seq, std::span<const int32_t>(&next, 1));
    EXPECT_TRUE(st) << (st ? "" : st.error().message);
    out.emplace_back(seq->logits().begin(), seq->logits().end());
  }
  if (stats && engine.expert_store().stats()) *stats = *engine.expert_store().stats();
  return out;
}

bool all_finite(const std::vector<std::vector<float>>& rows) {
  for (const auto& r : rows)
    for (const float v : r)
      if (!std::isfinite(v)) return false;
  return true;
}

// Cosine similarity of two rows.
double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 1.0;
}

std::string budget_for(const moe::ExpertTable& table, uint64_t wanted) {
  return std::to_string(
      std::max(wanted, moe::SlabCacheStore::minimum_budget(table, kThreads, /*readers=*/4, moe::ExpertReads::kDirect)));
}

class OnMiss : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(OnMiss, SkipBelowZeroNeverSkipsAndGivesTheResidentBits) {
  ASSERT_FALSE(GetParam().empty()) << "no conformance models in " << test::conformance_dir();
  auto m = model::Model::open(GetParam());
  ASSERT_TRUE(m) << m.error().message;
  const auto resident = run(**m, nullptr);
  const runtime::ExpertCacheOptions options{.size = budget_for((*m)->expert_table(), 0), .on_miss = "skip:0"};
  moe::ExpertStoreStats stats;
  const auto cached = run(**m, &options, &stats);
  ASSERT_EQ(cached.size(), resident.size());
  for (size_t s = 0; s < resident.size(); ++s) ASSERT_EQ(cached[s], resident[s]) << "step " << s;
  EXPECT_EQ(stats.skipped, 0u);
  EXPECT_GT(stats.misses, 0u);
}

TEST_P(OnMiss, SkipBelowOneUnderTheSmallestCacheSkipsAndStaysFinite) {
  ASSERT_FALSE(GetParam().empty()) << "no conformance models in " << test::conformance_dir();
  auto m = model::Model::open(GetParam());
  ASSERT_TRUE(m) << m.error().message;
  runtime::ExpertCacheOptions options{.size = budget_for((*m)->expert_table(), 0), .on_miss = "skip:1"};
  moe::ExpertStoreStats stats;
  auto cached = run(**m, &options, &stats);
  EXPECT_TRUE(all_finite(cached));
  if (stats.skipped == 0) {
    // Models that scale their routing weights (deepseek3's routed_scaling_factor) weigh every expert 1 or more:
    // nothing was skipped, so the bits are the resident ones; a larger W then skips.
    const auto resident = run(**m, nullptr);
    for (size_t s = 0; s < resident.size(); ++s) ASSERT_EQ(cached[s], resident[s]) << "step " << s;
    options.on_miss = "skip:100";
    cached = run(**m, &options, &stats);
    EXPECT_TRUE(all_finite(cached));
  }
  EXPECT_GT(stats.skipped, 0u);
  EXPECT_EQ(stats.shadow_uses, 0u);
}

// A q4_0 shadow of the model itself: the tensors are the model's, requantised within q4_0's bound; low-bit
// under a quarter-sized cache uses it and stays close to the resident logits.
TEST_P(OnMiss, LowBitWithAQ4_0ShadowStaysCloseToResident) {
  ASSERT_FALSE(GetParam().empty()) << "no conformance models in " << test::conformance_dir();
  auto m = model::Model::open(GetParam());
  ASSERT_TRUE(m) << m.error().message;
  const auto path = test::scratch_dir("on_miss_" + test::model_param_name(GetParam())) / "shadow.gguf";
  auto written = model::write_shadow(**m, path, {.type = TensorType::kQ4_0, .n_threads = kThreads});
  if (!written && written.error().message.find("not a multiple") != std::string::npos)
    GTEST_SKIP() << written.error().message;
  ASSERT_TRUE(written) << written.error().message;

  // Read back by the GGUF reader: the model's expert tensors, same names and shapes, q4_0, close to the source.
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file) << file.error().message;
  size_t n_expert_tensors = 0;
  for (const gguf::TensorInfo& t : (*m)->file().tensors()) {
    if (t.n_dims != 3 || t.name.find("_exps.weight") == std::string::npos) continue;
    ++n_expert_tensors;
    const gguf::TensorInfo* s = file->find_tensor(t.name);
    ASSERT_NE(s, nullptr) << t.name;
    EXPECT_EQ(s->type, TensorType::kQ4_0);
    EXPECT_EQ(s->ne, t.ne);
    const auto n = static_cast<size_t>(t.n_elements());
    std::vector<float> x(n), y(n);
    kernels::find_kernels(t.type)->dequantize_row(t.data.data(), x.data(), static_cast<int64_t>(n));
    kernels::find_kernels(s->type)->dequantize_row(s->data.data(), y.data(), static_cast<int64_t>(n));
    double err = 0, norm = 0;
    for (size_t i = 0; i < n; ++i) {
      err += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
      norm += static_cast<double>(x[i]) * x[i];
    }
    EXPECT_LE(std::sqrt(err / std::max(norm, 1e-30)), 0.15) << t.name;  // ~0.08 for Gaussian weights
  }
  EXPECT_EQ(file->tensors().size(), n_expert_tensors);

  const auto resident = run(**m, nullptr);
  const runtime::ExpertCacheOptions options{
      .size = budget_for((*m)->expert_table(), moe::routed_expert_bytes((*m)->expert_table()) / 4),
      .on_miss = "low-bit",
      .shadow = path.string()};
  moe::ExpertStoreStats stats;
  const auto cached = run(**m, &options, &stats);
  ASSERT_EQ(cached.size(), resident.size());
  EXPECT_TRUE(all_finite(cached));
  EXPECT_GT(stats.shadow_uses, 0u);
  EXPECT_EQ(stats.skipped, 0u);
  const auto V = static_cast<size_t>((*m)->config().common.n_vocab);
  for (size_t s = 0; s < resident.size(); ++s) {
    // Each row of the step (the prompt's several, a decode step's one).
    for (size_t r = 0; r + V <= resident[s].size(); r += V) {
      const std::vector<float> a(resident[s].begin() + static_cast<ptrdiff_t>(r),
                                 resident[s].begin() + static_cast<ptrdiff_t>(r + V));
      const std::vector<float> b(cached[s].begin() + static_cast<ptrdiff_t>(r),
                                 cached[s].begin() + static_cast<ptrdiff_t>(r + V));
      // q4_0 moves each weight by ~8 % of its norm; the tiny random models give cosines of 0.94 and more.
      EXPECT_GT(cosine(a, b), 0.9) << "step " << s << " row " << r / V;
    }
  }
}

std::vector<std::filesystem::path> all_models() {
  auto models = test::conformance_model_params();
  models.push_back(std::filesystem::path(SY_SOURCE_DIR) / "models" / "switchyard-moe-mini.q8_0.gguf");
  return models;
}

std::string model_name(const ::testing::TestParamInfo<std::filesystem::path>& info) {
  return test::model_param_name(info.param);
}

INSTANTIATE_TEST_SUITE_P(AllModels, OnMiss, ::testing::ValuesIn(all_models()), model_name);

// A shadow made from one model is refused for another, naming both; a file that is no shadow is refused too.
TEST(Shadow, AnotherModelsShadowIsRefusedNamingBoth) {
  const auto dir_models = test::conformance_dir() / "models";
  auto a = model::Model::open(dir_models / "qwen3moe-tiny.f32.gguf");
  auto b = model::Model::open(dir_models / "qwen3moe-tiny.q8_0.gguf");
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  const auto dir = test::scratch_dir("shadow_refused");
  const auto path = dir / "a.shadow.gguf";
  ASSERT_TRUE(model::write_shadow(**a, path, {.type = TensorType::kQ4_0}));
  EXPECT_TRUE(model::open_shadow(**a, path));
  auto refused = model::open_shadow(**b, path);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("qwen3moe-tiny.f32.gguf"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("qwen3moe-tiny.q8_0.gguf"), std::string::npos) << refused.error().message;
  auto not_shadow = model::open_shadow(**a, dir_models / "qwen3moe-tiny.f32.gguf");
  ASSERT_FALSE(not_shadow);
  EXPECT_NE(not_shadow.error().message.find("is not a low-bit shadow"), std::string::npos)
      << not_shadow.error().message;
  // Only q2_k, q3_k and q4_0 are shadow types.
  EXPECT_FALSE(model::write_shadow(**a, dir / "x.gguf", {.type = TensorType::kQ8_0}));
  EXPECT_FALSE(std::filesystem::exists(dir / "x.gguf"));
}

TEST(Shadow, ParseOnMiss) {
  EXPECT_EQ(runtime::parse_on_miss("wait")->action, moe::MissAction::kWait);
  EXPECT_EQ(runtime::parse_on_miss("low-bit")->action, moe::MissAction::kLowBit);
  auto skip = runtime::parse_on_miss("skip:0.25");
  ASSERT_TRUE(skip);
  EXPECT_EQ(skip->action, moe::MissAction::kSkip);
  EXPECT_FLOAT_EQ(skip->skip_below, 0.25f);
  EXPECT_FLOAT_EQ(runtime::parse_on_miss("skip:2.5")->skip_below, 2.5f);  // weights a model scales past 1
  for (const char* bad :
       {"", "skip", "skip:", "skip:-0.1", "skip:nan", "skip:inf", "skip:1e40", "skip:0.1x", "lowbit", "WAIT"})
    EXPECT_FALSE(runtime::parse_on_miss(bad)) << bad;
}

}  // namespace
}  // namespace sy
