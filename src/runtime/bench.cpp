#include "runtime/bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>
#include <string>

#include "moe/observer.h"
#include "runtime/engine.h"

namespace sy::runtime {
namespace {

// Sums, per layer, the distinct experts each token was sent to (padding slots and repeats not counted), and the
// distinct experts of each step's whole batch (end_step() closes a step): the bytes one token reads alone, and
// what a step of several sequences reads.
class ExpertCounter final : public moe::RoutingObserver {
 public:
  explicit ExpertCounter(size_t n_layer) : per_token_(n_layer, 0), per_step_(n_layer, 0), step_seen_(n_layer) {}
  void on_routing(const moe::RoutingEvent& e) override {
    if (e.layer < 0 || static_cast<size_t>(e.layer) >= per_token_.size() || e.decision == nullptr) return;
    const auto l = static_cast<size_t>(e.layer);
    const size_t n_expert = static_cast<size_t>(e.config != nullptr ? e.config->n_expert : 0);
    token_seen_.assign(n_expert, 0);
    if (step_seen_[l].size() < n_expert) step_seen_[l].resize(n_expert, 0);
    for (int64_t t = 0; t < e.decision->n_tokens; ++t) {
      const auto ids = e.decision->ids_of(t);
      for (const int32_t id : ids) {
        if (id < 0 || static_cast<size_t>(id) >= n_expert) continue;  // kNoExpert
        if (token_seen_[static_cast<size_t>(id)] == 0) {
          token_seen_[static_cast<size_t>(id)] = 1;
          ++per_token_[l];
        }
        if (step_seen_[l][static_cast<size_t>(id)] == 0) {
          step_seen_[l][static_cast<size_t>(id)] = 1;
          ++per_step_[l];
        }
      }
      for (const int32_t id : ids)
        if (id >= 0 && static_cast<size_t>(id) < n_expert) token_seen_[static_cast<size_t>(id)] = 0;
    }
  }
  void end_step() {
    for (auto& seen : step_seen_) std::fill(seen.begin(), seen.end(), 0);
  }
  const std::vector<int64_t>& per_token() const { return per_token_; }
  const std::vector<int64_t>& per_step() const { return per_step_; }

 private:
  std::vector<int64_t> per_token_, per_step_;
  std::vector<std::vector<uint8_t>> step_seen_;
  std::vector<uint8_t> token_seen_;
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

// One run from empty caches: the whole prompt as one batch, or the ids one step at a time (one per sequence).
// Returns seconds.
Result<double> run_once(Engine& engine, std::span<const std::unique_ptr<Sequence>> seqs, const BenchTest& test,
                        const std::vector<std::vector<int32_t>>& ids, ExpertCounter* counter) {
  for (const auto& s : seqs) s->reset();
  std::vector<Engine::Step> batch(seqs.size());
  const auto start = std::chrono::steady_clock::now();
  if (test.n_prompt > 0) {
    if (interrupted(test)) return fail(ErrorCode::kInvalidInput, "interrupted");
    if (auto s = engine.step(*seqs[0], ids[0], Engine::Logits::kLast); !s) return tl::unexpected(s.error());
  } else {
    for (size_t i = 0; i < ids[0].size(); ++i) {
      if (interrupted(test)) return fail(ErrorCode::kInvalidInput, "interrupted");
      for (size_t q = 0; q < seqs.size(); ++q)
        batch[q] = {.sequence = seqs[q].get(), .tokens = {&ids[q][i], 1}, .logits = Engine::Logits::kLast};
      if (auto s = engine.step(batch); !s) return tl::unexpected(s.error());
      if (counter != nullptr) counter->end_step();
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string bench_test_name(const BenchTest& test) {
  if (test.n_prompt > 0) return fmt::format("pp{}", test.n_prompt);
  return test.n_sequences > 1 ? fmt::format("tg{}x{}", test.n_gen, test.n_sequences) : fmt::format("tg{}", test.n_gen);
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

  if (test.n_sequences < 1 || (test.n_prompt > 0 && test.n_sequences != 1))
    return fail(ErrorCode::kInvalidInput, "{}: several sequences are a tg test's option", name);
  Engine engine(model, {.n_threads = test.n_threads});
  if (auto s = apply_expert_cache(engine, test.expert_cache, nullptr); !s)
    return fail(s.error().code, "{}: {}", name, s.error().message);
  std::vector<std::unique_ptr<Sequence>> seqs;
  std::vector<std::vector<int32_t>> ids;
  for (int q = 0; q < test.n_sequences; ++q) {
    seqs.push_back(engine.new_sequence({.n_ctx = n}));
    BenchTest stream = test;
    stream.seed = test.seed + static_cast<uint64_t>(q);
    ids.push_back(bench_tokens(stream, n, engine.n_vocab()));
  }

  // Warm-up: maps in the weights these ids touch and sizes the buffers; for tg it also counts the experts.
  ExpertCounter counter(model.config().layers.size());
  if (test.n_gen > 0) engine.observers().add(&counter);
  auto warm = run_once(engine, seqs, test, ids, test.n_gen > 0 ? &counter : nullptr);
  engine.observers().remove(&counter);
  if (!warm) return fail(warm.error().code, "{} (warm-up): {}", name, warm.error().message);

  BenchResult r;
  r.n_sequences = test.n_sequences;
  if (test.n_gen > 0) {
    r.bytes_per_token = cost.mean_bytes(counter.per_token(), test.n_gen * test.n_sequences);
    r.bytes_per_step = cost.mean_bytes(counter.per_step(), test.n_gen);
  }
  const int64_t tokens = n * test.n_sequences;
  const auto cache_before = engine.expert_store().stats();
  for (int rep = 0; rep < test.repetitions; ++rep) {
    // With a cache, a repetition replaying the warm-up's ids would find exactly the experts it just loaded:
    // each one gets ids of its own, so the hit rate is what new text meets.
    if (cache_before || test.fresh_tokens)
      for (int q = 0; q < test.n_sequences; ++q) {
        BenchTest stream = test;
        stream.seed = test.seed + 7919 * static_cast<uint64_t>(rep + 1) + static_cast<uint64_t>(q);
        ids[static_cast<size_t>(q)] = bench_tokens(stream, n, engine.n_vocab());
      }
    auto seconds = run_once(engine, seqs, test, ids, nullptr);
    if (!seconds) return fail(seconds.error().code, "{} (repetition {}): {}", name, rep + 1, seconds.error().message);
    r.samples_seconds.push_back(*seconds);
    r.samples_ts.push_back(*seconds > 0 ? static_cast<double>(tokens) / *seconds : 0.0);
  }
  if (const auto after = engine.expert_store().stats(); after && cache_before)
    r.expert_cache = moe::ExpertStoreStats{.hits = after->hits - cache_before->hits,
                                           .misses = after->misses - cache_before->misses,
                                           .bytes_read = after->bytes_read - cache_before->bytes_read,
                                           .evictions = after->evictions - cache_before->evictions,
                                           .read_seconds = after->read_seconds - cache_before->read_seconds,
                                           .prefetches = after->prefetches - cache_before->prefetches,
                                           .prefetch_hits = after->prefetch_hits - cache_before->prefetch_hits,
                                           .skipped = after->skipped - cache_before->skipped,
                                           .shadow_uses = after->shadow_uses - cache_before->shadow_uses};
  r.mean_ts = mean_of(r.samples_ts);
  r.sd_ts = sample_sd(r.samples_ts);
  return r;
}

}  // namespace sy::runtime
