#include "runtime/session.h"

#include <gtest/gtest.h>

#include <vector>

#include "model/model.h"
#include "support/test_support.h"

namespace sy::runtime {
namespace {

// Logits::kLast skips the output head for all but the last token; the row it returns must be the very row
// the full evaluation gives (same products, same order), for a prompt batch and for a decode step.
TEST(Session, LastLogitsOnlyEqualTheLastRowOfAllLogits) {
  auto m = model::Model::open(test::conformance_dir() / "models" / "qwen3moe-tiny.q8_0.gguf");
  ASSERT_TRUE(m) << m.error().message;
  const std::vector<int32_t> prompt = {509, 498, 497, 502, 193, 87, 469, 53};
  const int32_t next = 77;
  Session all(**m, {.n_ctx = 64, .n_threads = 2}), last(**m, {.n_ctx = 64, .n_threads = 2});
  std::vector<float> a, b;
  ASSERT_TRUE(all.eval(prompt, a));
  ASSERT_TRUE(last.eval(prompt, b, Session::Logits::kLast));
  const auto v = static_cast<size_t>(all.n_vocab());
  ASSERT_EQ(a.size(), prompt.size() * v);
  ASSERT_EQ(b.size(), v);
  EXPECT_EQ(std::vector<float>(a.end() - static_cast<std::ptrdiff_t>(v), a.end()), b);
  ASSERT_TRUE(all.eval({&next, 1}, a));
  ASSERT_TRUE(last.eval({&next, 1}, b, Session::Logits::kLast));
  EXPECT_EQ(a, b);
  EXPECT_EQ(all.pos(), last.pos());
}

}  // namespace
}  // namespace sy::runtime
