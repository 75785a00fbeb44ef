// Local routing consistency and what it means for an expert cache: SRP as defined in "Not All Models Suit
// Expert Offloading" (reference B6; its SCH is in sch.h), and continuous-stream cache simulations: hit rate
// against capacity for LRU, LFU and Belady's optimal replacement over the layer's whole token stream, sequences
// one after the other with no reset and compulsory misses counted — the way switchyard's expert cache runs,
// so these are the figures to hold its measured hit rate against.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "moe/analysis/streams.h"

namespace sy::moe::analysis {

// SRP pieces for one segment length m, per threshold τ = 1..m (index τ-1): a segment router assigns expert
// e to all m tokens of a window iff e is chosen c >= τ times in it. Windows slide by one token and never
// span two sequences. Summing these over layers before taking the best τ gives a model-wide SRP.
struct SrpCounts {
  int32_t m = 0;
  std::vector<uint64_t> matches;      // [τ-1]: Σ c over assigned (window, expert) pairs
  std::vector<uint64_t> predictions;  // [τ-1]: m · assigned pairs
  uint64_t actual = 0;                // Σ c over all pairs
};
SrpCounts srp_counts(const LayerStream& s, int32_t m);
void accumulate(SrpCounts& into, const SrpCounts& more);

struct Srp {
  double f1 = 0.0;     // SRP: the best F1 = 2·matches / (predictions + actual) over τ
  int32_t tau = 0;     // the τ that reaches it
  double ratio = 0.0;  // predictions / actual at that τ (the paper's best_m)
};
Srp best_srp(const SrpCounts& c);

enum class CachePolicy { kLru, kLfu, kBelady };

// Hit rate (hits / expert uses) of a per-layer cache of `capacity` experts over the stream, starting empty
// (first uses are misses). On each token, every chosen expert already cached is a hit; then the missing ones
// are brought in, evicting experts the token does not use (none evicted if all cached ones are in use).
// Victims: LRU — least recently used (last use by token index; experts last used by the same token tie);
// LFU — fewest uses so far, then LRU; Belady — next use farthest away (never = farthest), then LRU.
// Ties after that go to the lower expert id.
double cache_hit_rate(const LayerStream& s, int32_t capacity, CachePolicy policy);

struct CacheCounts {
  uint64_t hits = 0, uses = 0;
};
CacheCounts cache_counts(const LayerStream& s, int32_t capacity, CachePolicy policy);

}  // namespace sy::moe::analysis
