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

#include "core/anonymous_memory.h"
#include "core/error.h"
#include "core/positional_file.h"
#include "moe/cache/eviction_policy.h"
#include "moe/expert_store.h"

namespace sy::moe {

// How a miss reads an expert from the file. The page cache would keep a second copy of every slab read (charged
// to the process's cgroup, and pushing out what else it holds), so by default the reads bypass it.
enum class ExpertReads : uint8_t {
  kDirect,     // O_DIRECT into page-aligned places in the slot; kDropCache where the file system refuses it
  kDropCache,  // buffered pread, then posix_fadvise(DONTNEED) on the range
  kBuffered,   // plain buffered pread: the page cache keeps what was read
};
Result<ExpertReads> parse_expert_reads(std::string_view name);  // direct | dontneed | buffered
std::string_view expert_reads_name(ExpertReads reads);

struct SlabCacheOptions {
  uint64_t budget_bytes = 0;  // the slot pool; must hold at least n_threads experts
  int n_threads = 1;          // experts the forward pass holds at once (one per thread)
  EvictionKind policy = EvictionKind::kLru;
  // Background reader threads: ready_first() queues the layer's missing experts for them (demand reads, first),
  // and prefetch() a predictor's guesses (behind those). They load into free slots or ones no current work
  // needs, never evicting what this round or the next one needs. Each takes one slot more. 0: prefetch() does
  // nothing and each thread reads the misses it acquires itself.
  int readers = 0;
  ExpertReads reads = ExpertReads::kBuffered;
  // What the MoE layer does with a miss (ExpertStore::miss_policy). kSkip and kLowBit need readers (the miss is
  // read for later tokens while this one goes on without it); kLowBit needs `shadow`.
  MissPolicy on_miss = {};
  // kLowBit: every expert again, low-bit, resident (the same layers, expert counts and matrix shapes as the
  // table; runtime/expert_cache_setup.h checks it names this model). `shadow_owner` keeps its mapping alive.
  ExpertTable shadow = {};
  std::shared_ptr<const void> shadow_owner = {};
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
  // Direct reads give each matrix a page-aligned region with a page to spare (the slab's place in the file is
  // not page-aligned), so their slots are a little larger.
  static uint64_t slot_bytes_for(const ExpertTable& table, ExpertReads reads = ExpertReads::kBuffered);
  static uint64_t minimum_budget(const ExpertTable& table, int n_threads, int readers = 0,
                                 ExpertReads reads = ExpertReads::kBuffered);

  ~SlabCacheStore() override;

  Result<ExpertHandle> acquire(int32_t layer, int32_t expert) override;
  // Queues the experts for the readers behind the current layer's demand reads and the previous hint (older
  // hints are dropped); does nothing without readers. Never blocks on I/O.
  void prefetch(int32_t layer, std::span<const int32_t> experts) override;
  // Starts a round (the recency unit of the policies), keeps the experts already in memory from eviction for
  // it, puts them first, and queues the others for the readers ahead of every hint.
  size_t ready_first(int32_t layer, std::span<int32_t> experts) override;
  // ready_first, then those being read already before the misses.
  ReadySplit ready_first_split(int32_t layer, std::span<int32_t> experts) override;
  MissPolicy miss_policy() const override { return on_miss_; }
  // The expert if it is loaded now; otherwise never waits: an empty handle (a skip), or with `low_bit` the
  // shadow's copy. Either way its read stays queued (ready_first_split queued it) for later tokens.
  Result<ExpertHandle> acquire_now(int32_t layer, int32_t expert, bool low_bit) override;
  std::optional<ExpertStoreStats> stats() const override;

  int32_t n_slots() const { return static_cast<int32_t>(slots_.size()); }
  uint64_t slot_bytes() const { return slot_bytes_; }
  // What the reads really are (kDirect falls back to kDropCache where O_DIRECT is refused).
  ExpertReads reads() const { return reads_; }
  std::string_view policy_name() const { return policy_->name(); }
  // Slots holding an expert (loaded or loading) and slots pinned by live handles, now: for tests.
  int32_t n_resident() const;
  int32_t n_pinned() const;
  // Whether (layer, expert) is in a slot and loaded now.
  bool is_cached(int32_t layer, int32_t expert) const;
  bool cached_experts(int32_t layer, std::span<uint8_t> out) const override;

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
    bool prefetched = false;     // loaded by a reader on a prediction and not acquired since
    bool demand = false;         // loaded by a reader for the round that needs it: its first acquire is a miss
  };
  // Where one layer's matrices go inside a slot.
  struct LayerLayout {
    uint64_t up_offset = 0, down_offset = 0;
  };
  SlabCacheStore(const ExpertTable& table, PositionalFile file, AnonymousMemory pool, const SlabCacheOptions& options,
                 ExpertReads reads, int32_t n_slots);
  // Where `expert`'s bytes of the matrix `t` (at `region` in its slot) start: with direct reads, at the slab's
  // offset within its file page.
  uint64_t in_region(const ExpertTensor& t, int32_t expert) const;
  size_t index_of(int32_t layer, int32_t expert) const {
    return layer_base_[static_cast<size_t>(layer)] + static_cast<size_t>(expert);
  }
  uint8_t* slot_data(int32_t slot) const { return pool_.data() + static_cast<uint64_t>(slot) * slot_bytes_; }
  ExpertHandle handle_for(int32_t slot);
  // Pins the loaded expert in slot `at` for one more handle and counts the acquire. Caller holds the lock.
  ExpertHandle pin_loaded(int32_t at, size_t index);
  // Starts a round for `experts` of `layer`, orders the loaded ones first (then, with `split`, those being
  // loaded), and queues the rest for the readers. Caller holds the lock.
  ReadySplit order_and_queue(int32_t layer, std::span<int32_t> experts, bool split);
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
  // Puts (layer, e) for each e not cached or loading at the queue's front, in order. Caller holds the lock.
  void queue_hints(int32_t layer, std::span<const int32_t> experts, bool demand);

  ExpertTable table_;
  MissPolicy on_miss_;
  std::shared_ptr<const void> shadow_owner_;
  std::unique_ptr<ResidentExpertStore> shadow_;  // kLowBit: the low-bit copies, all resident
  PositionalFile file_;
  ExpertReads reads_ = ExpertReads::kBuffered;
  std::unique_ptr<EvictionPolicy> policy_;
  uint64_t slot_bytes_ = 0;
  AnonymousMemory pool_;             // page-aligned (direct reads need it), huge pages where the kernel gives them
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
    uint64_t id = 0;  // which prefetch() or ready_first() call
    int32_t layer = 0, expert = 0;
    bool demand = false;  // from ready_first: the current round acquires it
  };
  std::deque<Hint> queue_;  // front first
  uint64_t hint_id_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> readers_;  // last: started once everything they read exists
};

}  // namespace sy::moe
