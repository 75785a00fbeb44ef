// An ExpertStore with a memory budget: experts live in the model file and are read (pread) into a pool of
// fixed-size slots allocated once, so a model whose experts exceed RAM still runs. One slot holds one expert's
// gate, up and down matrices; every slot has the size of the largest expert. An expert is pinned while any
// handle to it lives and is never evicted then; when a miss finds no free slot, the eviction policy picks an
// unpinned victim. Design, policies and numbers: docs/expert-cache.md.
//
//   auto store = SlabCacheStore::open(model.expert_table(), path, {.budget_bytes = 1 << 30, .n_threads = 8});
//   engine.adopt_expert_store(std::move(*store));
//
// Thread-safety: every public member may be called from any thread (one mutex guards the slot table). The
// lock is not held while reading: the slot is marked loading and other acquirers of the same expert wait on a
// condition variable; acquirers of other experts go on.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/positional_file.h"
#include "moe/cache/eviction_policy.h"
#include "moe/expert_store.h"

namespace sy::moe {

struct SlabCacheOptions {
  uint64_t budget_bytes = 0;  // the slot pool; must hold at least n_threads experts
  int n_threads = 1;          // experts the forward pass holds at once (one per thread)
  EvictionKind policy = EvictionKind::kLru;
  // A background reader thread serves prefetch(): it loads the hinted experts into free slots or ones no
  // current work needs, never evicting what this round or the next one needs. Takes one slot more.
  bool prefetch = false;
};

class SlabCacheStore final : public ExpertStore {
 public:
  // Opens `path` (the model file the table's offsets point into) for reading and allocates the pool. Fails
  // naming the minimum bytes when the budget cannot hold n_threads experts, or when the file is shorter than
  // the table says.
  static Result<std::unique_ptr<SlabCacheStore>> open(const ExpertTable& table, const std::filesystem::path& path,
                                                      const SlabCacheOptions& options);
  // Bytes of one slot for this table (the largest expert, each matrix 64-byte aligned), and the smallest
  // budget that holds n_threads of them.
  static uint64_t slot_bytes_for(const ExpertTable& table);
  static uint64_t minimum_budget(const ExpertTable& table, int n_threads, bool prefetch = false);

  ~SlabCacheStore() override;

  Result<ExpertHandle> acquire(int32_t layer, int32_t expert) override;
  // Queues the experts for the reader thread, ahead of the previous hint's (older ones are dropped); does
  // nothing without options.prefetch. Never blocks on I/O.
  void prefetch(int32_t layer, std::span<const int32_t> experts) override;
  // Starts a round (the recency unit of the policies), keeps the experts already in memory from eviction for
  // it, and puts them first.
  size_t ready_first(int32_t layer, std::span<int32_t> experts) override;
  std::optional<ExpertStoreStats> stats() const override;

  int32_t n_slots() const { return static_cast<int32_t>(slots_.size()); }
  uint64_t slot_bytes() const { return slot_bytes_; }
  std::string_view policy_name() const { return policy_->name(); }
  // Slots holding an expert (loaded or loading) and slots pinned by live handles, now: for tests.
  int32_t n_resident() const;
  int32_t n_pinned() const;
  // Whether (layer, expert) is in a slot and loaded now.
  bool is_cached(int32_t layer, int32_t expert) const;

 protected:
  void release(int32_t layer, int32_t expert) noexcept override;

 private:
  enum class SlotState : uint8_t { kFree, kLoading, kReady };
  struct Slot {
    SlotState state = SlotState::kFree;
    int32_t layer = -1;
    int32_t expert = -1;
    int32_t pins = 0;            // live handles (and the loading acquirer or reader)
    uint64_t protect_until = 0;  // not a victim while round_ <= this, unless nothing else can go
    bool prefetched = false;     // loaded by the reader thread and not acquired since
  };
  // Where one layer's matrices go inside a slot.
  struct LayerLayout {
    uint64_t up_offset = 0, down_offset = 0;
  };
  struct AlignedDelete {
    void operator()(uint8_t* p) const;
  };

  SlabCacheStore(const ExpertTable& table, PositionalFile file, const SlabCacheOptions& options, int32_t n_slots);
  size_t index_of(int32_t layer, int32_t expert) const {
    return layer_base_[static_cast<size_t>(layer)] + static_cast<size_t>(expert);
  }
  uint8_t* slot_data(int32_t slot) const { return pool_.get() + static_cast<uint64_t>(slot) * slot_bytes_; }
  ExpertHandle handle_for(int32_t slot);
  // A free slot, else the policy's victim among unpinned ready slots, those this round has not used and no
  // round protects first (only those when `spare_only`, the reader's case); -1 when there is none. Caller holds
  // the lock.
  int32_t pick_slot(bool spare_only) const;
  // Takes `slot` for (layer, expert): evicts what it held, marks it loading and pinned once, reads with the lock
  // released (`lock` is relocked on return) and marks it ready, or frees it again on a read error. `stall`: an
  // acquirer waits for this read (its time counts in read_seconds).
  Status fill_slot(std::unique_lock<std::mutex>& lock, int32_t slot, int32_t layer, int32_t expert, bool stall);
  Status read_expert(int32_t layer, int32_t expert, uint8_t* into) const;
  void reader_loop();

  ExpertTable table_;
  PositionalFile file_;
  std::unique_ptr<EvictionPolicy> policy_;
  uint64_t slot_bytes_ = 0;
  std::unique_ptr<uint8_t[], AlignedDelete> pool_;
  std::vector<LayerLayout> layout_;  // [layer]
  std::vector<size_t> layer_base_;   // [layer] → first index of its experts in uses_ and slot_of_

  mutable std::mutex mutex_;
  std::condition_variable loaded_;  // a slot left the loading state (loaded or failed)
  std::vector<Slot> slots_;
  std::vector<int32_t> slot_of_;  // [index_of(layer, expert)] → slot, or -1
  std::vector<ExpertUse> uses_;   // [index_of(layer, expert)]
  uint64_t round_ = 0;            // ready_first starts round 1; ExpertUse::last_round 0 means never
  ExpertStoreStats stats_;

  // The reader thread (options.prefetch): takes (layer, expert) requests from the queue until stopping_.
  std::condition_variable work_;
  struct Hint {
    uint64_t id = 0;  // which prefetch() call
    int32_t layer = 0, expert = 0;
  };
  std::deque<Hint> queue_;  // front first
  uint64_t hint_id_ = 0;
  bool stopping_ = false;
  std::thread reader_;  // last: started once everything it reads exists
};

}  // namespace sy::moe
