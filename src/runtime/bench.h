// The measurement protocol of `switchyard bench`, after llama-bench's: a test is either prompt processing
// (pp: one batch of n_prompt tokens from an empty cache) or token generation (tg: n_gen single-token decodes
// from an empty cache, each feeding a new token id, no sampling). Token ids are pseudo-random from a fixed
// seed (the first is BOS when the vocabulary adds one), the same ids in every repetition. One warm-up run of
// the same test comes first and is not timed; then each repetition is timed alone, and tokens/s is reported
// per repetition, with their mean and sample standard deviation.
//
// tg with n_sequences > 1 decodes that many sequences, each from an empty cache with its own ids, one token each
// per Engine::step; tokens/s counts the tokens of all of them.
//
// For tg, the warm-up run also counts, through a routing observer, the distinct experts each token is sent
// to in each MoE layer: with the DecodeCost of the model that gives the weight bytes one decoded token reads.
// Repetitions feed the same ids, so they route as the warm-up did and the timed runs carry no observer.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/accounting.h"
#include "model/model.h"
#include "runtime/expert_cache_setup.h"

namespace sy::runtime {

struct BenchTest {
  int64_t n_prompt = 0;  // exactly one of n_prompt and n_gen is positive
  int64_t n_gen = 0;
  int n_threads = 1;
  int n_sequences = 1;  // tg: this many sequences decoded together, one token each per step (Engine::step)
  int repetitions = 1;
  std::optional<int32_t> first_token = {};       // BOS when the vocabulary adds one; else a random id
  uint64_t seed = 42;                            // of the token ids
  const std::atomic<bool>* interrupt = nullptr;  // checked before each forward pass; not owned
  ExpertCacheOptions expert_cache = {};          // experts from a budgeted cache instead of the mapping
  // Each timed repetition gets ids of its own (seed + 7919 × repetition) instead of the warm-up's; always so
  // with an expert cache, where a replay would find exactly the experts the warm-up loaded.
  bool fresh_tokens = false;
};

struct BenchResult {
  std::vector<double> samples_seconds;  // one per repetition
  std::vector<double> samples_ts;       // tokens / seconds, one per repetition
  double mean_ts = 0;
  double sd_ts = 0;            // sample standard deviation; 0 for one repetition
  double bytes_per_token = 0;  // tg: mean weight bytes one token reads decoded alone; 0 for pp
  double bytes_per_step = 0;   // tg: mean weight bytes one step reads (dense + the union of the experts its
                               // n_sequences tokens chose); bytes_per_token for one sequence
  // tg: the speed-up over one sequence that the bytes allow when decode is bound by memory:
  // n_sequences × bytes_per_token ÷ bytes_per_step.
  int n_sequences = 1;
  // With an expert cache: its traffic during the timed repetitions, all of them together (the warm-up, which
  // starts cold, is left out).
  std::optional<moe::ExpertStoreStats> expert_cache;
  double speedup_allowed() const { return bytes_per_step > 0 ? n_sequences * bytes_per_token / bytes_per_step : 0; }
};

// "pp64", "tg32", or "tg32x4" for four sequences decoded together.
std::string bench_test_name(const BenchTest& test);

// Fails on a test that is neither pp nor tg, one longer than the model's training context, or when the
// interrupt flag is raised (the message then says so).
Result<BenchResult> run_bench_test(const model::Model& model, const model::DecodeCost& cost, const BenchTest& test);

// Mean and sample (n − 1) standard deviation, as llama-bench reports them.
double mean_of(const std::vector<double>& values);
double sample_sd(const std::vector<double>& values);

}  // namespace sy::runtime
