// ExpertStore: the only way the forward pass reaches routed-expert weights (DESIGN.md). The forward pass
// acquires one expert at a time and gets a handle; the weights the handle views stay valid and unchanged until
// the handle is destroyed, which releases the expert. So a store that loads experts into a budgeted cache has to
// hold only the experts in flight (one per thread), never a whole layer's.
//
// Thread-safety contract: acquire(), prefetch(), ready_first() and handle destruction may be called from any
// thread, concurrently. A store's own state is its business (the resident store has none to guard).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "core/error.h"
#include "kernels/matmul/matmul.h"

namespace sy::moe {

struct ExpertWeights {
  kernels::MatrixView gate;          // [n_ff][n_embd]
  kernels::MatrixView up;            // [n_ff][n_embd]
  kernels::MatrixView down;          // [n_embd][n_ff]
  const float* gate_bias = nullptr;  // [n_ff] or nullptr
  const float* up_bias = nullptr;    // [n_ff] or nullptr
  const float* down_bias = nullptr;  // [n_embd] or nullptr
};

class ExpertStore;

// The traffic of a store that loads experts (a cache): what `run` and `bench` report.
struct ExpertStoreStats {
  uint64_t hits = 0;           // acquires whose expert was in memory (or being loaded by another thread)
  uint64_t misses = 0;         // acquires that read the expert from the file
  uint64_t bytes_read = 0;     // bytes those reads brought in
  uint64_t evictions = 0;      // cached experts given up for others
  double read_seconds = 0.0;   // time acquirers spent reading, summed over threads (the stall; not prefetch reads)
  uint64_t prefetches = 0;     // experts read ahead on a prefetch hint
  uint64_t prefetch_hits = 0;  // hits on an expert a prefetch brought in (its first acquire only)
  // --on-miss (docs/expert-cache.md): layer passes of an expert that was not in memory when its layer routed
  uint64_t skipped = 0;      // dropped for that pass (skip:W, every token's weight below W)
  uint64_t shadow_uses = 0;  // computed with the low-bit shadow copy instead (low-bit)
};

// What the MoE layer does with a routed expert whose bytes are neither in memory nor being read when its layer
// routes (a miss). kWait is exact; the others trade accuracy for not waiting (docs/expert-cache.md).
enum class MissAction : uint8_t {
  kWait,    // wait for the full-precision bytes (the result equals the resident store's)
  kSkip,    // drop it for the tokens whose weight for it is below skip_below, renormalising the rest
  kLowBit,  // compute it with the store's low-bit shadow copy while the full bytes load for later tokens
};
struct MissPolicy {
  MissAction action = MissAction::kWait;
  float skip_below = 0.0f;  // kSkip: the routing weight below which a missing expert is dropped
};

// ExpertStore::ready_first_split's answer: experts [0, ready) are in memory, [ready, available) are being read
// already (a wait for them is short), [available, n) are misses the caller may treat by its MissPolicy.
struct ReadySplit {
  size_t ready = 0;
  size_t available = 0;
};

// One acquired expert. Move-only; releases the expert when destroyed (or reset).
class ExpertHandle {
 public:
  ExpertHandle() = default;
  ExpertHandle(ExpertStore* store, int32_t layer, int32_t expert, const ExpertWeights& weights)
      : store_(store), layer_(layer), expert_(expert), weights_(weights) {}
  ExpertHandle(ExpertHandle&& o) noexcept { *this = std::move(o); }
  ExpertHandle& operator=(ExpertHandle&& o) noexcept;
  ExpertHandle(const ExpertHandle&) = delete;
  ExpertHandle& operator=(const ExpertHandle&) = delete;
  ~ExpertHandle() { reset(); }

  void reset();
  explicit operator bool() const { return store_ != nullptr; }
  const ExpertWeights& weights() const { return weights_; }
  int32_t layer() const { return layer_; }
  int32_t expert() const { return expert_; }

 private:
  ExpertStore* store_ = nullptr;
  int32_t layer_ = 0;
  int32_t expert_ = 0;
  ExpertWeights weights_;
};

class ExpertStore {
 public:
  virtual ~ExpertStore() = default;
  // Expert `expert` of `layer`; may block until its bytes are in memory. Fails on an id the layer lacks or
  // when the bytes cannot be had (a read error).
  virtual Result<ExpertHandle> acquire(int32_t layer, int32_t expert) = 0;
  // A hint that these experts of `layer` will be acquired soon (the ones the router chose, or a predictor's
  // guess for a later layer). Never blocks on I/O; may do nothing.
  virtual void prefetch(int32_t layer, std::span<const int32_t> experts) {}
  // Reorders `experts` so those whose bytes are in memory now come first, and returns how many those are: the
  // forward pass computes in that order while the rest load. Results never depend on the order.
  virtual size_t ready_first(int32_t layer, std::span<int32_t> experts) { return experts.size(); }
  // ready_first for a store whose miss policy is not kWait: also tells the experts being read already from the
  // misses (ordered ready, being read, missing). The reads of the misses are queued as ready_first queues them.
  virtual ReadySplit ready_first_split(int32_t layer, std::span<int32_t> experts) {
    return {.ready = ready_first(layer, experts), .available = experts.size()};
  }
  // What the MoE layer does with misses; the resident store has none.
  virtual MissPolicy miss_policy() const { return {}; }
  // Like acquire, but never waits for a read: an empty handle when the expert's bytes are not in memory now
  // (the caller then skips it; counted in stats().skipped), or with `low_bit` a handle on the store's low-bit
  // shadow copy (counted in shadow_uses). A store without misses acquires.
  virtual Result<ExpertHandle> acquire_now(int32_t layer, int32_t expert, bool low_bit) {
    return acquire(layer, expert);
  }
  // Counters since the store opened, for stores that load experts; none for the resident store.
  virtual std::optional<ExpertStoreStats> stats() const { return std::nullopt; }
  // Sets out[e] (n_expert values) to 1 for each expert of `layer` whose bytes are in memory now and 0 for the
  // rest: what routing that prefers cached experts asks (--route cache-aware:B). Returns false, leaving `out`
  // alone, when every expert always is (the resident store): there is nothing to prefer.
  virtual bool cached_experts(int32_t layer, std::span<uint8_t> out) const { return false; }

 protected:
  friend class ExpertHandle;
  // Called once per acquire, when its handle goes. Must not fail.
  virtual void release(int32_t layer, int32_t expert) noexcept = 0;
};

// Where the bytes of one expert's matrix are in the model file: what a store that reads experts itself needs.
struct ExpertSlab {
  uint64_t offset = 0;  // from the start of the file
  uint64_t bytes = 0;
  TensorType type = TensorType::kF32;
  int64_t n_cols = 0;  // ne0
  int64_t n_rows = 0;  // ne1
};

// One MoE layer's expert tensors as stored: 3-D [ne0, ne1, n_expert] with one contiguous slab per expert.
struct ExpertTensor {
  TensorType type = TensorType::kF32;
  int64_t n_cols = 0;  // ne0
  int64_t n_rows = 0;  // ne1
  int64_t n_expert = 0;
  const uint8_t* data = nullptr;  // the mapping
  uint64_t file_offset = 0;       // where the tensor's data starts in the file

  uint64_t slab_bytes() const;
  ExpertSlab slab(int32_t expert) const;
  kernels::MatrixView view(const uint8_t* slab_data) const;  // slab_data: one expert's bytes
};

struct LayerExperts {
  ExpertTensor gate, up, down;
  const float* gate_bias = nullptr;  // [n_expert][n_ff] or nullptr (small: always resident)
  const float* up_bias = nullptr;
  const float* down_bias = nullptr;  // [n_expert][n_embd] or nullptr

  int64_t n_expert() const { return gate.n_expert; }
  // The expert's weights with its matrices at the given bytes (the mapping's, or a store's own copy).
  ExpertWeights weights(int32_t expert, const uint8_t* gate_bytes, const uint8_t* up_bytes,
                        const uint8_t* down_bytes) const;
};

// The table of every MoE layer's experts (layers without experts have n_expert 0), published by model/.
using ExpertTable = std::vector<LayerExperts>;

// Every expert resident in the (memory-mapped) file: acquire is pointer arithmetic, release does nothing.
class ResidentExpertStore final : public ExpertStore {
 public:
  explicit ResidentExpertStore(ExpertTable table) : table_(std::move(table)) {}
  Result<ExpertHandle> acquire(int32_t layer, int32_t expert) override;

 protected:
  void release(int32_t, int32_t) noexcept override {}

 private:
  ExpertTable table_;
};

// Checks that `layer` has experts and `expert` is one of them; the error names both.
Status check_expert_id(const ExpertTable& table, int32_t layer, int32_t expert);

// The bytes of every routed expert's slabs (gate, up, down) over all layers: what an expert cache serves instead
// of the mapping.
uint64_t routed_expert_bytes(const ExpertTable& table);

}  // namespace sy::moe
