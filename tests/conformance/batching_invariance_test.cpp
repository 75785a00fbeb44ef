// The engine's own invariances, on the F32 conformance models: more threads give bit-identical logits (every
// row is computed independently and in a fixed order). A prompt fed token by token instead of as one batch
// takes llama.cpp's single-token orders (ggml_vec_dot instead of tinyBLAS), so it moves by float noise, as
// llama.cpp's own does (tolerance.json, incremental_prompt: at most 3.4e-6 on these models); the bound is the
// conformance README's for F32 models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/model.h"
#include "runtime/session.h"
#include "support/test_support.h"

namespace sy {
namespace {

std::vector<float> run(const model::Model& m, const std::vector<int32_t>& tokens, bool one_by_one, int threads) {
  runtime::Session s(m, runtime::SessionOptions{.n_ctx = static_cast<int64_t>(tokens.size()), .n_threads = threads});
  std::vector<float> all, logits;
  if (!one_by_one) {
    EXPECT_TRUE(s.eval(tokens, all));
    return all;
  }
  for (int32_t t : tokens) {
    EXPECT_TRUE(s.eval(std::span<const int32_t>(&t, 1), logits));
    all.insert(all.end(), logits.begin(), logits.end());
  }
  return all;
}

TEST(EngineInvariance, ThreadsAgreeExactlyAndTokenByTokenWithinFloatNoise) {
  constexpr float kF32Bound = 1e-4f;
  std::vector<int32_t> tokens;
  for (int i = 0; i < 40; ++i) tokens.push_back((i * 131 + 7) % 509);
  int checked = 0;
  for (const auto& path : test::conformance_models()) {
    if (path.stem().extension() != ".f32") continue;
    ++checked;
    SCOPED_TRACE(path.filename().string());
    auto m = model::Model::open(path);
    ASSERT_TRUE(m) << m.error().message;
    const auto batch = run(**m, tokens, false, 1);
    const auto one_by_one = run(**m, tokens, true, 1);
    ASSERT_EQ(batch.size(), one_by_one.size());
    float max_diff = 0.0f;
    for (size_t i = 0; i < batch.size(); ++i) max_diff = std::max(max_diff, std::abs(batch[i] - one_by_one[i]));
    EXPECT_LE(max_diff, kF32Bound) << "token by token differs from one batch";
    EXPECT_EQ(batch, run(**m, tokens, false, 3)) << "3 threads differ from 1";
  }
  EXPECT_GT(checked, 0) << "no *.f32.gguf in " << test::conformance_dir() / "models";
}

TEST(EngineInvariance, ContextOverflowAndBadTokensAreErrors) {
  auto m = model::Model::open(test::conformance_dir() / "models" / "qwen3moe-tiny.f32.gguf");
  ASSERT_TRUE(m);
  runtime::Session s(**m, runtime::SessionOptions{.n_ctx = 4, .n_threads = 1});
  std::vector<float> logits;
  const std::vector<int32_t> five = {1, 2, 3, 4, 5};
  auto r = s.eval(five, logits);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("context full"), std::string::npos) << r.error().message;
  const std::vector<int32_t> bad = {1, 512};
  r = s.eval(bad, logits);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("token 512 at index 1 is outside the vocabulary"), std::string::npos);
  EXPECT_EQ(s.pos(), 0);  // failed calls leave the sequence as it was
}

}  // namespace
}  // namespace sy
