#include "server/core/scheduler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "model/model.h"
#include "moe/policies/routing_spec.h"
#include "runtime/routing_setup.h"
#include "runtime/session.h"
#include "support/test_support.h"

namespace sy::server {
namespace {

using namespace std::chrono_literals;

// What a job produced, taken to its end (bounded: every test job ends within a minute).
struct Outcome {
  std::vector<int32_t> tokens;
  std::string text;
  JobResult result;
  std::vector<GeneratedToken> all;
};

Outcome collect(Job& job) {
  Outcome o;
  const auto end = Clock::now() + 60s;
  while (!job.take(o.all, 20ms)) {
    if (Clock::now() > end) {
      ADD_FAILURE() << "job did not finish within 60 s";
      return o;
    }
  }
  for (const auto& t : o.all) {
    if (t.id >= 0) o.tokens.push_back(t.id);
    o.text += t.text;
  }
  o.result = job.result();
  return o;
}

class SchedulerTest : public ::testing::TestWithParam<std::filesystem::path> {
 protected:
  void SetUp() override {
    auto m = model::Model::open(GetParam());
    ASSERT_TRUE(m) << m.error().message;
    model_ = std::move(*m);
    auto t = tok::Tokenizer::from_gguf(model_->file());
    ASSERT_TRUE(t) << t.error().message;
    tokenizer_ = std::make_unique<tok::Tokenizer>(std::move(*t));
    engine_ = std::make_unique<runtime::Engine>(*model_, runtime::EngineOptions{.n_threads = 2});
  }

  std::unique_ptr<Scheduler> scheduler(SchedulerOptions o) {
    if (o.n_ctx == 0) o.n_ctx = 128;
    return std::make_unique<Scheduler>(*engine_, *tokenizer_, o, &metrics_);
  }

  // The reference: the prompt alone on a fresh session, prefilled in one batch, greedy, n tokens, no stops.
  std::vector<int32_t> alone(const std::vector<int32_t>& prompt, int n) {
    runtime::Session s(*model_, {.n_ctx = 128, .n_threads = 1});
    std::vector<float> logits;
    EXPECT_TRUE(s.eval(prompt, logits, runtime::Session::Logits::kLast));
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) {
      const auto n_vocab = static_cast<size_t>(s.n_vocab());
      const int32_t next = runtime::argmax(std::span<const float>(logits.data() + logits.size() - n_vocab, n_vocab));
      out.push_back(next);
      if (i + 1 < n) EXPECT_TRUE(s.eval(std::span<const int32_t>(&next, 1), logits, runtime::Session::Logits::kLast));
    }
    return out;
  }

  std::shared_ptr<Job> greedy_job(std::vector<int32_t> prompt, int32_t n) {
    JobInput in;
    in.prompt = std::move(prompt);
    in.sampling = runtime::SamplingParams{};  // value-initialised: greedy
    in.max_tokens = n;
    return std::make_shared<Job>(std::move(in));
  }

  std::vector<int32_t> prompt(int i, size_t len) {
    std::vector<int32_t> p;
    for (size_t j = 0; j < len; ++j)
      p.push_back(static_cast<int32_t>((7919 * (i + 1) + 104729 * j) % (tokenizer_->size() - 10) + 5));
    return p;
  }

  std::unique_ptr<model::Model> model_;
  std::unique_ptr<tok::Tokenizer> tokenizer_;
  std::unique_ptr<runtime::Engine> engine_;
  Metrics metrics_{std::vector<int32_t>(64, 64)};
};

// Batching, prompt chunks and queueing never change a result: 7 jobs of different prompt lengths on 3 slots with
// a prefill budget of 5 tokens per step (prompts split over several steps) give what each gives alone.
TEST_P(SchedulerTest, BatchedJobsEqualEachAlone) {
  auto s = scheduler({.n_slots = 3, .n_ctx = 128, .max_queue = 16, .prefill_chunk = 5, .prefill_chunk_decoding = 3});
  std::vector<std::shared_ptr<Job>> jobs;
  for (int i = 0; i < 7; ++i) {
    jobs.push_back(greedy_job(prompt(i, 3 + 4 * static_cast<size_t>(i)), 6 + i));
    ASSERT_EQ(s->submit(jobs.back()), Scheduler::Submit::kAccepted);
  }
  for (int i = 0; i < 7; ++i) {
    const Outcome o = collect(*jobs[static_cast<size_t>(i)]);
    EXPECT_EQ(o.result.reason, FinishReason::kLength);
    EXPECT_EQ(o.tokens, alone(jobs[static_cast<size_t>(i)]->input().prompt, 6 + i)) << "job " << i;
  }
  EXPECT_TRUE(s->wait_idle(10s));
  EXPECT_EQ(s->stats().active, 0);
}

// While one sequence generates, a joining prompt goes in chunks of prefill_chunk_decoding tokens, one per step, and
// the generating sequence gets a token every step meanwhile instead of waiting for the whole prompt.
TEST_P(SchedulerTest, AJoiningPromptDoesNotStallAGeneratingSequence) {
  auto s = scheduler({.n_slots = 2, .n_ctx = 128, .max_queue = 4, .prefill_chunk = 64, .prefill_chunk_decoding = 4});
  auto a = greedy_job(prompt(1, 4), 60);
  ASSERT_EQ(s->submit(a), Scheduler::Submit::kAccepted);
  std::vector<GeneratedToken> a_tokens, b_tokens;
  while (a_tokens.empty()) ASSERT_FALSE(a->take(a_tokens, 10s));
  auto b = greedy_job(prompt(2, 40), 3);
  ASSERT_EQ(s->submit(b), Scheduler::Submit::kAccepted);
  const size_t a_before = a_tokens.size();
  while (b_tokens.empty()) ASSERT_FALSE(b->take(b_tokens, 10s));
  a->take(a_tokens, 0ms);
  // 40 prompt tokens in chunks of 4: ten steps, each one of a's tokens (one step of slack for the admission).
  EXPECT_GE(a_tokens.size() - a_before, 9u);
  const Outcome rest = collect(*b);
  std::vector<int32_t> b_ids;
  for (const auto& t : b_tokens)
    if (t.id >= 0) b_ids.push_back(t.id);
  b_ids.insert(b_ids.end(), rest.tokens.begin(), rest.tokens.end());
  EXPECT_EQ(b_ids, alone(b->input().prompt, 3));  // chunking changes no result
  const Outcome oa = collect(*a);
  EXPECT_EQ(oa.result.reason, FinishReason::kLength);
}

// A prompt that repeats a finished job's tokens (a chat's next turn) reuses them and still gets its alone result.
TEST_P(SchedulerTest, ReusesAPromptPrefixWithoutChangingTheResult) {
  auto s = scheduler({.n_slots = 2, .n_ctx = 128, .max_queue = 4, .prefill_chunk = 64});
  auto first = greedy_job(prompt(1, 12), 5);
  ASSERT_EQ(s->submit(first), Scheduler::Submit::kAccepted);
  const Outcome a = collect(*first);
  std::vector<int32_t> next = first->input().prompt;
  next.insert(next.end(), a.tokens.begin(), a.tokens.end());
  for (const int32_t t : prompt(2, 6)) next.push_back(t);
  auto second = greedy_job(next, 5);
  ASSERT_EQ(s->submit(second), Scheduler::Submit::kAccepted);
  const Outcome b = collect(*second);
  // The first job's last token was sampled but never fed: everything before it is reused.
  EXPECT_EQ(b.result.reused_tokens, 12 + 4);
  EXPECT_EQ(b.tokens, alone(next, 5));
}

TEST_P(SchedulerTest, CancelFreesTheSlotWithinAStep) {
  auto s = scheduler({.n_slots = 1, .n_ctx = 128, .max_queue = 4, .prefill_chunk = 64});
  auto job = greedy_job(prompt(3, 4), 100);
  ASSERT_EQ(s->submit(job), Scheduler::Submit::kAccepted);
  std::vector<GeneratedToken> got;
  const auto end = Clock::now() + 30s;
  while (got.empty() && Clock::now() < end) job->take(got, 10ms);
  ASSERT_FALSE(got.empty());
  job->cancel();
  const Outcome o = collect(*job);
  EXPECT_EQ(o.result.reason, FinishReason::kCancelled);
  EXPECT_LT(o.result.completion_tokens, 100);
  EXPECT_TRUE(s->wait_idle(10s));
  // The slot serves the next job.
  auto next = greedy_job(prompt(4, 4), 3);
  ASSERT_EQ(s->submit(next), Scheduler::Submit::kAccepted);
  EXPECT_EQ(collect(*next).tokens, alone(prompt(4, 4), 3));
}

TEST_P(SchedulerTest, DeadlinesQueueLimitsAndStop) {
  auto s = scheduler({.n_slots = 1, .n_ctx = 128, .max_queue = 0, .prefill_chunk = 64});
  JobInput late;
  late.prompt = prompt(5, 4);
  late.deadline = Clock::now() - 1s;
  auto expired = std::make_shared<Job>(std::move(late));
  ASSERT_EQ(s->submit(expired), Scheduler::Submit::kAccepted);
  EXPECT_EQ(collect(*expired).result.reason, FinishReason::kTimeout);

  auto running = greedy_job(prompt(6, 4), 120);
  running->mutable_input().stop_tokens.clear();
  ASSERT_EQ(s->submit(running), Scheduler::Submit::kAccepted);
  // One slot, no queue: whether or not the first has its slot yet, a second one does not fit.
  EXPECT_EQ(s->submit(greedy_job(prompt(7, 4), 2)), Scheduler::Submit::kQueueFull);
  s->close();
  EXPECT_EQ(s->submit(greedy_job(prompt(7, 4), 2)), Scheduler::Submit::kClosed);
  s->stop();
  const Outcome o = collect(*running);
  EXPECT_TRUE(o.result.reason == FinishReason::kShutdown || o.result.reason == FinishReason::kLength);
}

TEST_P(SchedulerTest, StopsAtStopTokensStopStringsAndTheContext) {
  auto s = scheduler({.n_slots = 2, .n_ctx = 24, .max_queue = 4, .prefill_chunk = 64});
  const std::vector<int32_t> p = prompt(8, 6);
  // A context of 24 holds the prompt and 18 tokens fed back; the 19th is sampled from the last position.
  const std::vector<int32_t> ref = alone(p, 19);
  auto by_token = greedy_job(p, 18);
  by_token->mutable_input().stop_tokens = {ref[3]};
  auto by_context = greedy_job(p, -1);
  ASSERT_EQ(s->submit(by_token), Scheduler::Submit::kAccepted);
  ASSERT_EQ(s->submit(by_context), Scheduler::Submit::kAccepted);
  const Outcome t = collect(*by_token);
  EXPECT_EQ(t.result.reason, FinishReason::kStop);
  // Up to the first occurrence of the stop token, which is not emitted.
  const auto first = std::find(ref.begin(), ref.end(), ref[3]) - ref.begin();
  EXPECT_EQ(t.tokens, std::vector<int32_t>(ref.begin(), ref.begin() + first));
  const Outcome c = collect(*by_context);
  EXPECT_EQ(c.result.reason, FinishReason::kLength);
  EXPECT_EQ(c.tokens, ref);

  // A stop string: the reply's text ends before it.
  const Outcome whole = [&] {
    auto j = greedy_job(p, 12);
    EXPECT_EQ(s->submit(j), Scheduler::Submit::kAccepted);
    return collect(*j);
  }();
  const std::string cut = whole.text.substr(whole.text.size() / 2, 3);
  if (cut.size() == 3) {
    auto j = greedy_job(p, 12);
    j->mutable_input().stop_strings = {cut};
    ASSERT_EQ(s->submit(j), Scheduler::Submit::kAccepted);
    const Outcome o = collect(*j);
    EXPECT_EQ(o.result.reason, FinishReason::kStop);
    EXPECT_EQ(o.text, whole.text.substr(0, whole.text.find(cut)));
  }
}

TEST_P(SchedulerTest, RecordsRoutingAndRunsAPolicyOfItsOwn) {
  const auto layers = runtime::moe_layers(*model_);
  ASSERT_FALSE(layers.empty());
  auto built =
      moe::build_routing_policy({.route = "top-k:1"}, layers, static_cast<int32_t>(model_->config().common.n_layer));
  ASSERT_TRUE(built) << built.error().message;
  auto s = scheduler({.n_slots = 2, .n_ctx = 128, .max_queue = 4, .prefill_chunk = 64});
  auto own = greedy_job(prompt(9, 5), 4);
  own->mutable_input().policy = std::move(built->policy);
  own->mutable_input().routing_key = "top-k:1";
  own->mutable_input().routing_per_token = own->mutable_input().routing_summary = true;
  auto native = greedy_job(prompt(9, 5), 4);
  native->mutable_input().routing_summary = true;
  ASSERT_EQ(s->submit(own), Scheduler::Submit::kAccepted);
  ASSERT_EQ(s->submit(native), Scheduler::Submit::kAccepted);
  const Outcome o = collect(*own);
  const Outcome n = collect(*native);
  ASSERT_EQ(o.result.load.size(), layers.size());
  int64_t routed = 0;
  for (const auto& [layer, counts] : o.result.load)
    for (const int64_t c : counts) routed += c;
  // Every token this job evaluated (5 prompt tokens and 3 fed back) chose one expert per MoE layer.
  EXPECT_EQ(routed, static_cast<int64_t>((5 + 3) * layers.size()));
  for (const auto& t : o.all) {
    if (t.id < 0) continue;
    ASSERT_EQ(t.routing.size(), layers.size());
    for (const auto& c : t.routing) EXPECT_EQ(c.ids.size(), 1u);
  }
  // The other job, batched with it, kept the native rule and its own alone result.
  EXPECT_EQ(n.tokens, alone(prompt(9, 5), 4));
  int64_t native_routed = 0;
  for (const auto& [layer, counts] : n.result.load)
    for (const int64_t c : counts) native_routed += c;
  EXPECT_EQ(native_routed, static_cast<int64_t>((5 + 3) * layers.size()) * layers.front().config.n_used);
}

// The bundled model (what `serve` runs by default), and a Q4_K_M conformance model whose prefill kernels group
// tokens (so splitting prompts into chunks must still not change a result).
std::vector<std::filesystem::path> models() {
  return {std::filesystem::path(SY_SOURCE_DIR) / "models" / "switchyard-moe-mini.q8_0.gguf",
          test::conformance_dir() / "models" / "qwen3moe-kq.q4_k_m.gguf"};
}

INSTANTIATE_TEST_SUITE_P(Models, SchedulerTest, ::testing::ValuesIn(models()),
                         [](const auto& info) { return test::model_param_name(info.param); });

}  // namespace
}  // namespace sy::server
