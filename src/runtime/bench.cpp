#include "runtime/bench.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <string>

#include "moe/observer.h"
#include "runtime/session.h"

namespace sy::runtime {
namespace {

// Sums, per layer, the distinct experts each token was sent to (padding slots and repeats not counted).
class ExpertCounter final : public moe::RoutingObserver {
 public:
  explicit ExpertCounter(size_t n_layer) : counts_(n_layer, 0) {}
  void on_routing(const moe::RoutingEvent& e) override {
    if (e.layer < 0 || static_cast<size_t>(e.layer) >= counts_.size() || e.decision == nullptr) return;
    seen_.assign(static_cast<size_t>(e.config != nullptr ? e.config->n_expert : 0), 0);
    for (int64_t t = 0; t < e.decision->n_tokens; ++t) {
      const auto ids = e.decision->ids_of(t);
      for (const int32_t id : ids) {
        if (id < 0) continue;  // kNoExpert
        if (static_cast<size_t>(id) >= seen_.size()) seen_.resize(static_cast<size_t>(id) + 1, 0);
        if (seen_[static_cast<size_t>(id)] != 0) continue;
        seen_[static_cast<size_t>(id)] = 1;
        ++counts_[static_cast<size_t>(e.layer)];
      }
      for (const int32_t id : ids)
        if (id >= 0) seen_[static_cast<size_t>(id)] = 0;
    }
  }
  const std::vector<int64_t>& counts() const { return counts_; }

 private:
  std::vector<int64_t> counts_;
  std::vector<uint8_t> seen_;
};

std::vector<int32_t> bench_tokens(const BenchTest& test, int64_t n, int64_t n_vocab) {
  std::mt19937_64 rng(test.seed);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(n_vocab - 1));
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t& id : ids) id = pick(rng);
  if (test.first_token && *test.first_token >= 0 && *test.first_token < n_vocab) ids[0] = *test.first_token;
  return ids;
}

bool interrupted(const BenchTest& test) { return test.interrupt != nullptr && test.interrupt->load(); }

// One run from an empty cache: the whole prompt as one batch, or the ids one at a time. Returns seconds.
Result<double> run_once(Session& session, const BenchTest& test, const std::vector<int32_t>& ids,
                        std::vector<float>& logits) {
  session.reset();
  const auto start = std::chrono::steady_clock::now();
  if (test.n_prompt > 0) {
    if (interrupted(test)) return fail(ErrorCode::kInvalidInput, "interrupted");
    if (auto s = session.eval(ids, logits, Session::Logits::kLast); !s) return tl::unexpected(s.error());
  } else {
    for (const int32_t& id : ids) {
      if (interrupted(test)) return fail(ErrorCode::kInvalidInput, "interrupted");
      if (auto s = session.eval({&id, 1}, logits, Session::Logits::kLast); !s) return tl::unexpected(s.error());
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string bench_test_name(const BenchTest& test) {
  return test.n_prompt > 0 ? fmt::format("pp{}", test.n_prompt) : fmt::format("tg{}", test.n_gen);
}

double mean_of(const std::vector<double>& values) {
  if (values.empty()) return 0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double sample_sd(const std::vector<double>& values) {
  if (values.size() < 2) return 0;
  const double mean = mean_of(values);
  double sq = 0;
  for (const double v : values) sq += (v - mean) * (v - mean);
  return std::sqrt(sq / static_cast<double>(values.size() - 1));
}

Result<BenchResult> run_bench_test(const model::Model& model, const model::DecodeCost& cost, const BenchTest& test) {
  if ((test.n_prompt > 0) == (test.n_gen > 0) || test.n_prompt < 0 || test.n_gen < 0)
    return fail(ErrorCode::kInvalidInput, "a bench test is either pp (n_prompt > 0) or tg (n_gen > 0), not {}/{}",
                test.n_prompt, test.n_gen);
  if (test.repetitions < 1 || test.n_threads < 1)
    return fail(ErrorCode::kInvalidInput, "a bench test needs at least one repetition and one thread");
  const std::string name = bench_test_name(test);
  const int64_t n = test.n_prompt + test.n_gen;
  const int64_t train = model.config().common.n_ctx_train;
  if (train > 0 && n > train)
    return fail(ErrorCode::kOutOfRange, "{} needs a context of {} tokens; the model was trained with {}", name, n,
                train);

  Session session(model, {.n_ctx = n, .n_threads = test.n_threads});
  const std::vector<int32_t> ids = bench_tokens(test, n, session.n_vocab());
  std::vector<float> logits;

  // Warm-up: maps in the weights these ids touch and sizes the buffers; for tg it also counts the experts.
  ExpertCounter counter(model.config().layers.size());
  if (test.n_gen > 0) session.observers().add(&counter);
  auto warm = run_once(session, test, ids, logits);
  session.observers().remove(&counter);
  if (!warm) return fail(warm.error().code, "{} (warm-up): {}", name, warm.error().message);

  BenchResult r;
  if (test.n_gen > 0) r.bytes_per_token = cost.mean_bytes(counter.counts(), test.n_gen);
  for (int rep = 0; rep < test.repetitions; ++rep) {
    auto seconds = run_once(session, test, ids, logits);
    if (!seconds) return fail(seconds.error().code, "{} (repetition {}): {}", name, rep + 1, seconds.error().message);
    r.samples_seconds.push_back(*seconds);
    r.samples_ts.push_back(*seconds > 0 ? static_cast<double>(n) / *seconds : 0.0);
  }
  r.mean_ts = mean_of(r.samples_ts);
  r.sd_ts = sample_sd(r.samples_ts);
  return r;
}

}  // namespace sy::runtime
