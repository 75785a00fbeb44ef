#include "server/core/model_pool.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "coe/prompt_router.h"
#include "server/core/model_choice.h"
#include "support/test_support.h"

namespace sy::server {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

fs::path tiny(const std::string& name) { return test::conformance_dir() / "models" / name; }

std::vector<coe::ModelEntry> two_models() {
  return {{.name = "qwen", .path = tiny("qwen3moe-tiny.q8_0.gguf"), .description = "q", .categories = {"code"}},
          {.name = "mixtral", .path = tiny("mixtral-tiny.q8_0.gguf"), .description = "m", .categories = {"en"}}};
}

ModelPoolOptions small_options(uint64_t budget) {
  ModelPoolOptions o;
  o.budget_bytes = budget;
  o.n_threads = 1;
  o.scheduler.n_slots = 1;
  o.scheduler.n_ctx = 64;
  return o;
}

std::string inspect_error(const std::vector<coe::ModelEntry>& models, uint64_t budget = 0) {
  auto infos = inspect_models(models, small_options(budget));
  EXPECT_FALSE(infos) << "expected an error";
  return infos ? std::string() : infos.error().message;
}

Clock::time_point in(std::chrono::milliseconds ms) { return Clock::now() + ms; }

// Deadlines that must not pass: long, as a shared machine may pause a test's process for minutes.
constexpr std::chrono::milliseconds kLong = 10min;

// Whether this process maps `path` now (/proc/self/maps): an unloaded model's file must not be.
bool mapped(const fs::path& path) {
  std::ifstream maps("/proc/self/maps");
  const std::string name = fs::canonical(path).string();
  for (std::string line; std::getline(maps, line);)
    if (line.ends_with(" " + name) || line.ends_with("\t" + name)) return true;
  return false;
}

// A greedy job of a few tokens through a lease's scheduler: the loaded model really serves.
void generate_on(ModelLease& lease) {
  JobInput in;
  in.prompt = {1, 2, 3};
  in.max_tokens = 2;
  in.sampling.temperature = 0;
  auto job = std::make_shared<Job>(std::move(in));
  ASSERT_EQ(lease->scheduler->submit(job), Scheduler::Submit::kAccepted);
  std::vector<GeneratedToken> tokens;
  const auto end = Clock::now() + kLong;
  while (!job->take(tokens, 20ms)) ASSERT_LT(Clock::now(), end) << "job did not finish";
  EXPECT_EQ(job->result().reason, FinishReason::kLength) << job->result().error;
  EXPECT_EQ(job->result().completion_tokens, 2);
}

TEST(ModelPoolInspect, MeasuresEveryModel) {
  auto infos = inspect_models(two_models(), small_options(0));
  ASSERT_TRUE(infos) << infos.error().message;
  ASSERT_EQ(infos->size(), 2u);
  for (const auto& m : *infos) {
    EXPECT_EQ(m.n_ctx, 64);
    EXPECT_EQ(m.file_bytes, fs::file_size(m.path));
    EXPECT_GT(m.kv_bytes, 0u);
    EXPECT_EQ(m.footprint_bytes, m.file_bytes + m.kv_bytes + m.cache_bytes);
    EXPECT_GT(m.n_vocab, 0);
  }
}

TEST(ModelPoolInspect, NamesABrokenModelAndItsPath) {
  const fs::path dir = test::scratch_dir("model_pool_inspect");
  auto with = [&](const fs::path& path) {
    auto models = two_models();
    models[1].path = path;
    return models;
  };
  std::string e = inspect_error(with(dir / "missing.gguf"));
  EXPECT_NE(e.find("model 'mixtral'"), std::string::npos) << e;
  EXPECT_NE(e.find("missing.gguf"), std::string::npos) << e;
  EXPECT_NE(e.find("no such file"), std::string::npos) << e;

  e = inspect_error(with(dir));
  EXPECT_NE(e.find("model 'mixtral'"), std::string::npos) << e;
  EXPECT_NE(e.find("is a directory"), std::string::npos) << e;

  const fs::path fifo = dir / "fifo.gguf";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  e = inspect_error(with(fifo));  // must not block waiting for a writer
  EXPECT_NE(e.find("not a regular file"), std::string::npos) << e;

  const fs::path truncated = dir / "truncated.gguf";
  {
    const auto bytes = test::read_file_bytes(tiny("mixtral-tiny.q8_0.gguf"));
    std::ofstream(truncated, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), 4000);
  }
  e = inspect_error(with(truncated));
  EXPECT_NE(e.find("model 'mixtral' (" + truncated.string() + ")"), std::string::npos) << e;

  const fs::path text = dir / "text.gguf";
  std::ofstream(text) << "not a model at all\n";
  e = inspect_error(with(text));
  EXPECT_NE(e.find("model 'mixtral' (" + text.string() + ")"), std::string::npos) << e;
}

TEST(ModelPoolInspect, AModelLargerThanTheBudgetNamesBothSizes) {
  const std::string e = inspect_error(two_models(), 1000);
  EXPECT_NE(e.find("model 'qwen'"), std::string::npos) << e;
  EXPECT_NE(e.find("more than the whole budget of 1000 bytes"), std::string::npos) << e;
  EXPECT_NE(e.find("needs "), std::string::npos) << e;
}

// Two models under a budget that holds one: each acquire of the other one unloads the first.
class ModelPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto infos = inspect_models(two_models(), small_options(0));
    ASSERT_TRUE(infos) << infos.error().message;
    budget_ = std::max((*infos)[0].footprint_bytes, (*infos)[1].footprint_bytes);
    ASSERT_LT(budget_, (*infos)[0].footprint_bytes + (*infos)[1].footprint_bytes);
    for (auto& m : *infos) rows_.push_back({.name = m.name, .n_expert = m.n_expert});
    metrics_ = std::make_unique<Metrics>(rows_, budget_);
    pool_ = std::make_unique<ModelPool>(std::move(*infos), small_options(budget_), metrics_.get());
  }
  void TearDown() override { pool_.reset(); }

  uint64_t budget_ = 0;
  std::vector<Metrics::ModelRow> rows_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ModelPool> pool_;
};

TEST_F(ModelPoolTest, LoadsOnDemandAndUnloadsTheLeastRecentlyUsed) {
  EXPECT_FALSE(pool_->is_loaded(0));
  EXPECT_FALSE(pool_->is_loaded(1));
  constexpr int kCycles = 6;
  for (int i = 0; i < kCycles; ++i) {
    const size_t want = static_cast<size_t>(i % 2);
    auto lease = pool_->acquire(want, in(kLong));
    ASSERT_TRUE(lease) << lease.error().message;
    EXPECT_GT(lease->load_seconds(), 0);  // every acquire here waited for a load
    EXPECT_TRUE(pool_->is_loaded(want));
    EXPECT_FALSE(pool_->is_loaded(1 - want));
    EXPECT_LE(pool_->stats().loaded_bytes, budget_);
    EXPECT_TRUE(mapped(pool_->models()[want].path));
    EXPECT_FALSE(mapped(pool_->models()[1 - want].path)) << "an unloaded model's file is still mapped";
    generate_on(*lease);
  }
  const auto s = pool_->stats();
  EXPECT_EQ(s.loads, kCycles);
  EXPECT_EQ(s.unloads, kCycles - 1);
  // The model loaded stays: acquiring it again waits for nothing.
  auto again = pool_->acquire((kCycles - 1) % 2, in(1s));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->load_seconds(), 0);
  const std::string text = metrics_->render();
  EXPECT_NE(text.find("switchyard_model_loads_total{model=\"qwen\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("switchyard_model_unloads_total{model=\"qwen\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("switchyard_model_load_seconds_count 6"), std::string::npos) << text;
}

TEST_F(ModelPoolTest, ConcurrentRequestsForOneModelLoadItOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      auto lease = pool_->acquire(1, in(kLong));
      if (lease) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(pool_->stats().loads, 1);
}

TEST_F(ModelPoolTest, ABusyModelMakesTheOtherWaitNotFail) {
  auto a = pool_->acquire(0, in(kLong));
  ASSERT_TRUE(a);
  // Nothing can be unloaded while `a` is held: a short deadline passes.
  auto early = pool_->acquire(1, in(300ms));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().status, 503);
  EXPECT_EQ(early.error().code, "timeout");
  // A longer one gets the model once `a` is released; meanwhile model 0 drains (new leases on it wait).
  std::atomic<bool> got{false};
  std::thread t([&] {
    auto b = pool_->acquire(1, in(kLong));
    got = static_cast<bool>(b);
    if (b) generate_on(*b);
  });
  // Soon model 0 is draining for model 1: new leases on it wait (each lease taken before is released at once).
  bool draining = false;
  for (const auto end = Clock::now() + kLong; !draining && Clock::now() < end;) draining = !pool_->acquire(0, in(50ms));
  EXPECT_TRUE(draining);
  generate_on(*a);  // the lease held still serves
  a->reset();
  t.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(pool_->stats().unloads, 1);
}

// Requests for both models at once, over and over: each gets its model in turn (a model just loaded for its
// waiters is not unloaded for the other before they take it: no load/unload livelock).
TEST_F(ModelPoolTest, TwoModelsAtOnceTakeTurns) {
  constexpr int kEach = 4;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (size_t m = 0; m < 2; ++m)
    threads.emplace_back([&, m] {
      for (int i = 0; i < kEach; ++i) {
        auto lease = pool_->acquire(m, in(120s));
        if (!lease) return;
        generate_on(*lease);
        ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 2 * kEach);
  EXPECT_LE(pool_->stats().loads, 2 * kEach);
}

TEST_F(ModelPoolTest, ClosedPoolRefusesWithShuttingDown) {
  pool_->close();
  auto lease = pool_->acquire(0, in(1s));
  ASSERT_FALSE(lease);
  EXPECT_EQ(lease.error().status, 503);
  EXPECT_EQ(lease.error().code, "shutting_down");
}

TEST(ModelChoice, RoutingText) {
  GenerationRequest chat;
  chat.messages = {{{"role", "system"}, {"content", "sys"}},
                   {{"role", "user"}, {"content", "first"}},
                   {{"role", "assistant"}, {"content", "reply"}},
                   {{"role", "user"}, {"content", "second"}}};
  EXPECT_EQ(routing_text(chat), "second");
  GenerationRequest completion;
  completion.kind = GenerationRequest::Kind::kCompletion;
  completion.prompt_text = "def f():";
  EXPECT_EQ(routing_text(completion), "def f():");
  completion.prompt_is_tokens = true;
  EXPECT_FALSE(routing_text(completion));
}

TEST(ModelChoice, NamedAutoAndUnknown) {
  auto c = coe::parse_composition(R"(
default = "mixtral"
[models.qwen]
path = "q.gguf"
categories = ["code"]
[models.mixtral]
path = "m.gguf"
[router]
kind = "rules"
[[router.rules]]
pattern = '^def '
category = "code"
)",
                                  coe::CompositionFormat::kToml, "/x", "c.toml");
  ASSERT_TRUE(c) << c.error().message;
  auto router = coe::make_prompt_router(*c, {});
  ASSERT_TRUE(router) << router.error().message;
  std::vector<PoolModelInfo> infos(2);
  infos[0].name = "qwen";
  infos[1].name = "mixtral";
  Metrics metrics({{.name = "qwen", .n_expert = {}}, {.name = "mixtral", .n_expert = {}}}, 0);
  ModelPool pool(std::move(infos), small_options(0), &metrics);

  GenerationRequest r;
  r.kind = GenerationRequest::Kind::kCompletion;
  r.prompt_text = "def f(): pass";
  for (const std::string model : {"", "auto"}) {
    r.model = model;
    auto choice = choose_model(r, pool, *c, **router);
    ASSERT_TRUE(choice) << choice.error().message;
    EXPECT_EQ(choice->index, 0u);
    EXPECT_TRUE(choice->routed);
    EXPECT_EQ(choice->routing["model"], "qwen");
    EXPECT_EQ(choice->routing["category"], "code");
  }
  r.prompt_text = "hello";
  auto fallback = choose_model(r, pool, *c, **router);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->routing["model"], "mixtral");
  r.prompt_is_tokens = true;
  auto ids = choose_model(r, pool, *c, **router);
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->routing["model"], "mixtral");
  EXPECT_NE(ids->routing["reason"].get<std::string>().find("token ids"), std::string::npos);

  r.model = "qwen";
  auto named = choose_model(r, pool, *c, **router);
  ASSERT_TRUE(named);
  EXPECT_FALSE(named->routed);
  EXPECT_EQ(named->index, 0u);
  r.model = "gpt-4";
  auto unknown = choose_model(r, pool, *c, **router);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().status, 404);
  EXPECT_EQ(unknown.error().code, "model_not_found");
  EXPECT_EQ(unknown.error().param, "model");
}

}  // namespace
}  // namespace sy::server
