// Which cached expert an expert cache gives up when it needs a slot: one small interface, one file per policy.
// A policy only orders experts; the store keeps the use records, the lock and the rules every policy shares
// (never a pinned expert; an expert already used in the current round only when nothing else is free).
//
// Time is counted in rounds: the forward pass starts one per MoE layer per step (ExpertStore::ready_first), so
// the experts one layer pass uses share a round, as the tokens of moe::analysis's cache simulator do.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/error.h"

namespace sy::moe {

// What a store remembers of one expert, cached or not (frequency survives eviction, as in the simulator).
struct ExpertUse {
  uint64_t last_round = 0;  // round of the last acquire; 0: never used
  uint64_t uses = 0;        // acquires so far (one per round in which the forward pass ran the expert)
  double log2_heat = 0.0;   // score policy: log2 of the decayed use count at last_round
};

// The victim is the cached, unpinned expert with the smallest key; ties go to the lower (layer, expert).
struct EvictionKey {
  double primary = 0.0;
  double secondary = 0.0;
  // Spelled out rather than a defaulted <=> (which clang-tidy's modernize-use-nullptr misreads).
  bool operator==(const EvictionKey&) const = default;
  bool operator<(const EvictionKey& o) const {
    return primary < o.primary || (primary == o.primary && secondary < o.secondary);
  }
};

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;
  virtual std::string_view name() const = 0;
  // Every acquire, hit or miss, in round `round`. Called under the store's lock.
  virtual void on_use(ExpertUse& use, uint64_t round) const;
  // The expert's eviction key at round `now` (>= its last_round).
  virtual EvictionKey key(const ExpertUse& use, uint64_t now) const = 0;
};

enum class EvictionKind { kLru, kLfu, kScore };

// "lru", "lfu" or "score"; the error lists them.
Result<EvictionKind> parse_eviction_kind(std::string_view name);
std::string_view eviction_kind_name(EvictionKind kind);

// rounds_per_step: MoE layers per forward pass, the score policy's unit of age (its half-life is a few steps).
std::unique_ptr<EvictionPolicy> make_eviction_policy(EvictionKind kind, int32_t rounds_per_step);

}  // namespace sy::moe
