// SCH — segment cache best hit rate — exactly as the code of "Not All Models Suit Expert Offloading" (reference
// B6, repository ljcleo/moe-lrc, src/41_sch_calc.py) computes it. Its rules, which differ from the
// continuous-stream cache simulations in locality.h on purpose:
//   1. scope: every sequence starts with a fresh cache; the figure is the unweighted mean over sequences of
//      each sequence's hit rate (hits / expert uses of that sequence);
//   2. warm start: no miss while fewer than C distinct experts have appeared in the sequence (an expert seen for
//      the first time counts as a hit when the cache is not yet full), so capacity = n_expert gives exactly 1;
//   3. the look-ahead window of token t covers tokens t … t+L−1, the current token included (L = 1 is LRU with
//      the token's own not-yet-served experts protected);
//   4. within a token, the experts are served one at a time in slot order; whether each is a hit is decided
//      from the cache as it was when the token began; a miss evicts the cached expert with the lowest priority,
//      which may be one the token itself uses (served later in the token, it is then brought back).
// Priority of a cached expert: its uses in the window (an expert already served in this token no longer counts
// this token's use), ties broken by the most recent use (least recently used goes first; uses are ordered
// token by token and, within a token, by slot). It is a stack algorithm: one pass gives every capacity, in time
// proportional to expert uses × the stack depth they are found at (the model-level stream of a model with
// thousands of experts in all takes a while; the paper's code skips runs of the stack to go faster).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "moe/analysis/streams.h"

namespace sy::moe::analysis {

// Hits of one sequence per stack depth: a use at depth d is a hit for every capacity C > d. [n_expert]
struct SchDepths {
  std::vector<uint64_t> at_depth;
  uint64_t uses = 0;
};
// `tokens` is one sequence in order: [token] → experts in slot order (ids < n_expert, distinct per token).
SchDepths sch_sequence(std::span<const std::vector<int32_t>> tokens, int32_t n_expert, int32_t lookahead);

// Hit rate for capacity C = 1 … n_expert (index C−1) of one sequence.
std::vector<double> sch_rates(const SchDepths& d);

// SCH of one layer: per capacity 1 … n_expert, the mean over the stream's sequences (runs of equal seq).
std::vector<double> sch(const LayerStream& s, int32_t lookahead);

// Model-level SCH, as the paper's code builds it: every token's experts of all MoE layers joined (on sequence
// and position) into one token of a single stream over n_expert × layers experts (layer i's expert e is
// i·E_before + e), layers in order, slots in order within a layer. Per capacity 1 … total experts.
std::vector<double> model_sch(std::span<const LayerStream> layers, int32_t lookahead);

// The joined stream model_sch runs on (exposed for tests and for the report's capacity axis).
LayerStream model_stream(std::span<const LayerStream> layers);

}  // namespace sy::moe::analysis
