// Decoding several sequences in one batch gives each of them bit for bit the logits it gets alone, on every
// conformance model: 1, 2, 4 and 7 sequences with prompts of different lengths, some joining one step later
// (so a batch mixes prefill and decode), then greedy decode steps taken together. A sequence's tokens form a run
// of their own in every product (kernels/matmul/matmul.h) and attention stays per sequence, so nothing another
// sequence does may move a bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "model/model.h"
#include "runtime/engine.h"
#include "support/test_support.h"

namespace sy {
namespace {

constexpr int kDecodeSteps = 3;
constexpr int kThreads = 2;

int32_t argmax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

std::vector<std::vector<int32_t>> make_prompts(int n, int64_t n_vocab) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(n_vocab - 1));
  const int lengths[] = {5, 1, 9, 3, 12, 2, 7};
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> p(static_cast<size_t>(lengths[i % 7]));
    for (int32_t& t : p) t = pick(rng);
    prompts.push_back(std::move(p));
  }
  return prompts;
}

// Every step's logits of one sequence: [prompt logits (all rows)], then one row per decode step.
using Trace = std::vector<std::vector<float>>;

Trace run_alone(const model::Model& m, const std::vector<int32_t>& prompt) {
  runtime::Engine engine(m, {.n_threads = kThreads});
  auto seq = engine.new_sequence({.n_ctx = 64});
  Trace trace;
  EXPECT_TRUE(engine.step(*seq, prompt));
  trace.emplace_back(seq->logits().begin(), seq->logits().end());
  for (int s = 0; s < kDecodeSteps; ++s) {
    const int32_t next = argmax(seq->logits().last(static_cast<size_t>(engine.n_vocab())));
    EXPECT_TRUE(engine.step(*seq, std::span<const int32_t>(&next, 1)));
    trace.emplace_back(seq->logits().begin(), seq->logits().end());
  }
  return trace;
}

// Sequence i starts at step i % 2 when `staggered` (its prompt then shares a batch with others' decode steps).
std::vector<Trace> run_together(const model::Model& m, const std::vector<std::vector<int32_t>>& prompts,
                                bool staggered) {
  runtime::Engine engine(m, {.n_threads = kThreads});
  const size_t n = prompts.size();
  std::vector<std::unique_ptr<runtime::Sequence>> seqs;
  for (size_t i = 0; i < n; ++i) seqs.push_back(engine.new_sequence({.n_ctx = 64}));
  std::vector<Trace> traces(n);
  std::vector<int32_t> next(n);
  const int last_step = kDecodeSteps + (staggered ? 1 : 0);
  for (int step = 0; step <= last_step; ++step) {
    std::vector<runtime::Engine::Step> batch;
    for (size_t i = 0; i < n; ++i) {
      const int start = staggered ? static_cast<int>(i % 2) : 0;
      if (step < start || step > start + kDecodeSteps) continue;
      if (step == start)
        batch.push_back({.sequence = seqs[i].get(), .tokens = prompts[i]});
      else
        batch.push_back({.sequence = seqs[i].get(), .tokens = std::span<const int32_t>(&next[i], 1)});
    }
    EXPECT_TRUE(engine.step(batch));
    for (const auto& b : batch) {
      const size_t i = static_cast<size_t>(
          std::find_if(seqs.begin(), seqs.end(), [&](const auto& s) { return s.get() == b.sequence; }) - seqs.begin());
      traces[i].emplace_back(b.sequence->logits().begin(), b.sequence->logits().end());
      next[i] = argmax(b.sequence->logits().last(static_cast<size_t>(engine.n_vocab())));
    }
  }
  return traces;
}

class BatchInvariance : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(BatchInvariance, EverySequenceGetsItsAloneBits) {
  ASSERT_FALSE(GetParam().empty()) << "no conformance models in " << test::conformance_dir();
  auto m = model::Model::open(GetParam());
  ASSERT_TRUE(m) << m.error().message;
  const auto prompts = make_prompts(7, (*m)->config().common.n_vocab);
  std::vector<Trace> alone;
  for (const auto& p : prompts) alone.push_back(run_alone(**m, p));
  for (const int n : {1, 2, 4, 7}) {
    for (const bool staggered : {false, true}) {
      if (n == 1 && staggered) continue;
      const std::vector<std::vector<int32_t>> some(prompts.begin(), prompts.begin() + n);
      const auto together = run_together(**m, some, staggered);
      for (int i = 0; i < n; ++i) {
        ASSERT_EQ(together[static_cast<size_t>(i)].size(), alone[static_cast<size_t>(i)].size());
        for (size_t s = 0; s < alone[static_cast<size_t>(i)].size(); ++s)
          ASSERT_EQ(together[static_cast<size_t>(i)][s], alone[static_cast<size_t>(i)][s])
              << n << " sequences" << (staggered ? " (staggered)" : "") << ": sequence " << i << " step " << s;
      }
    }
  }
}

std::string model_name(const ::testing::TestParamInfo<std::filesystem::path>& info) {
  return test::model_param_name(info.param);
}

INSTANTIATE_TEST_SUITE_P(AllModels, BatchInvariance, ::testing::ValuesIn(test::conformance_model_params()), model_name);

}  // namespace
}  // namespace sy
