#include "moe/cache/slab_cache_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <new>
#include <utility>

namespace sy::moe {
namespace {

constexpr uint64_t kAlign = 64;  // a cache line: every matrix in a slot starts on one
constexpr uint64_t kPage = PositionalFile::kDirectAlign;

uint64_t align_up(uint64_t n, uint64_t to = kAlign) { return (n + to - 1) / to * to; }

// Bytes a matrix of `slab_bytes` takes in a slot: with direct reads, the whole pages around the slab wherever it
// starts within a page.
uint64_t region_bytes(uint64_t slab_bytes, ExpertReads reads) {
  return reads == ExpertReads::kDirect ? align_up(slab_bytes + kPage - 1, kPage) : align_up(slab_bytes);
}

bool has_experts(const LayerExperts& l) { return l.n_expert() > 0; }

// The shadow must have every expert of the table in matrices of the same shapes.
Status check_shadow(const ExpertTable& table, const ExpertTable& shadow) {
  if (shadow.size() != table.size())
    return fail(ErrorCode::kInvalidInput, "expert cache: the low-bit shadow has {} layers, the model {}", shadow.size(),
                table.size());
  for (size_t il = 0; il < table.size(); ++il) {
    const LayerExperts& l = table[il];
    const LayerExperts& s = shadow[il];
    const std::pair<const ExpertTensor*, const ExpertTensor*> parts[] = {
        {&l.gate, &s.gate}, {&l.up, &s.up}, {&l.down, &s.down}};
    for (const auto& [a, b] : parts)
      if (a->n_cols != b->n_cols || a->n_rows != b->n_rows || a->n_expert != b->n_expert ||
          (a->n_expert > 0 && b->data == nullptr))
        return fail(ErrorCode::kInvalidInput,
                    "expert cache: the low-bit shadow's layer {} experts are [{}, {}, {}], the model's [{}, {}, {}]",
                    il, b->n_cols, b->n_rows, b->n_expert, a->n_cols, a->n_rows, a->n_expert);
  }
  return {};
}

}  // namespace

Result<ExpertReads> parse_expert_reads(std::string_view name) {
  if (name == "direct") return ExpertReads::kDirect;
  if (name == "dontneed") return ExpertReads::kDropCache;
  if (name == "buffered") return ExpertReads::kBuffered;
  return fail(ErrorCode::kInvalidInput, "unknown expert read mode '{}' (direct, dontneed or buffered)", name);
}

std::string_view expert_reads_name(ExpertReads reads) {
  switch (reads) {
    case ExpertReads::kDirect: return "direct";
    case ExpertReads::kDropCache: return "dontneed";
    case ExpertReads::kBuffered: return "buffered";
  }
  return "?";
}

uint64_t SlabCacheStore::slot_bytes_for(const ExpertTable& table, ExpertReads reads) {
  uint64_t most = 0;
  for (const LayerExperts& l : table)
    if (has_experts(l))
      most = std::max(most, region_bytes(l.gate.slab_bytes(), reads) + region_bytes(l.up.slab_bytes(), reads) +
                                region_bytes(l.down.slab_bytes(), reads));
  return most;
}

uint64_t SlabCacheStore::minimum_budget(const ExpertTable& table, int n_threads, int readers, ExpertReads reads) {
  return slot_bytes_for(table, reads) * static_cast<uint64_t>(std::max(1, n_threads) + std::max(0, readers));
}

Result<std::unique_ptr<SlabCacheStore>> SlabCacheStore::open(const ExpertTable& table,
                                                             const std::filesystem::path& path,
                                                             const SlabCacheOptions& options) {
  if (slot_bytes_for(table) == 0)
    return fail(ErrorCode::kInvalidInput, "expert cache: {} has no routed experts to cache", path.string());
  const uint64_t minimum = minimum_budget(table, options.n_threads, options.readers, options.reads);
  if (options.budget_bytes < minimum)
    return fail(ErrorCode::kOutOfRange,
                "expert cache: a budget of {} bytes is too small: the forward pass pins up to {} experts at once (one "
                "per thread{}), which needs at least {} bytes ({} bytes per expert slot)",
                options.budget_bytes, std::max(1, options.n_threads) + std::max(0, options.readers),
                options.readers > 0 ? fmt::format(", and one per reader ({})", options.readers) : "", minimum,
                slot_bytes_for(table, options.reads));
  if (options.on_miss.action != MissAction::kWait && options.readers == 0)
    return fail(ErrorCode::kInvalidInput,
                "expert cache: a miss that does not wait needs reader threads to load the expert for later tokens");
  if (options.on_miss.action == MissAction::kLowBit) {
    if (auto st = check_shadow(table, options.shadow); !st) return tl::unexpected(st.error());
  }
  auto file = PositionalFile::open(path, options.reads == ExpertReads::kDirect);
  if (!file) return tl::unexpected(file.error());
  const ExpertReads reads =
      options.reads == ExpertReads::kDirect && !file->has_direct() ? ExpertReads::kDropCache : options.reads;
  const uint64_t slot = slot_bytes_for(table, reads);
  uint64_t n_experts = 0;
  for (const LayerExperts& l : table) {
    if (!has_experts(l)) continue;
    n_experts += static_cast<uint64_t>(l.n_expert());
    for (const ExpertTensor* t : {&l.gate, &l.up, &l.down}) {
      const uint64_t end = t->file_offset + t->slab_bytes() * static_cast<uint64_t>(t->n_expert);
      if (end > file->size())
        return fail(ErrorCode::kInvalidInput, "expert cache: {} has {} bytes but its experts reach offset {}",
                    path.string(), file->size(), end);
    }
  }
  // More slots than experts would never be used.
  const auto n_slots = static_cast<int32_t>(std::min<uint64_t>(options.budget_bytes / slot, n_experts));
  auto pool = AnonymousMemory::allocate(slot * static_cast<uint64_t>(n_slots));
  if (!pool) return fail(pool.error().code, "expert cache: the slot pool: {}", pool.error().message);
  return std::unique_ptr<SlabCacheStore>(
      new SlabCacheStore(table, std::move(*file), std::move(*pool), options, reads, n_slots));
}

SlabCacheStore::SlabCacheStore(const ExpertTable& table, PositionalFile file, AnonymousMemory pool,
                               const SlabCacheOptions& options, ExpertReads reads, int32_t n_slots)
    : table_(table),
      on_miss_(options.on_miss),
      shadow_owner_(options.shadow_owner),
      file_(std::move(file)),
      reads_(reads),
      slot_bytes_(slot_bytes_for(table, reads)),
      pool_(std::move(pool)) {
  int32_t moe_layers = 0;
  size_t base = 0;
  for (const LayerExperts& l : table_) {
    layer_base_.push_back(base);
    base += static_cast<size_t>(l.n_expert());
    const uint64_t up = region_bytes(l.gate.slab_bytes(), reads_);
    layout_.push_back({.up_offset = up, .down_offset = up + region_bytes(l.up.slab_bytes(), reads_)});
    moe_layers += has_experts(l) ? 1 : 0;
  }
  policy_ = make_eviction_policy(options.policy, moe_layers);
  if (on_miss_.action == MissAction::kLowBit) shadow_ = std::make_unique<ResidentExpertStore>(options.shadow);
  slots_.resize(static_cast<size_t>(n_slots));
  slot_of_.assign(base, -1);
  uses_.resize(base);
  for (int i = 0; i < options.readers; ++i) readers_.emplace_back([this] { reader_loop(); });
}

SlabCacheStore::~SlabCacheStore() {
  if (readers_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  for (std::thread& t : readers_) t.join();
}

ExpertHandle SlabCacheStore::handle_for(int32_t slot) {
  const Slot& s = slots_[static_cast<size_t>(slot)];
  const LayerExperts& l = table_[static_cast<size_t>(s.layer)];
  const LayerLayout& at = layout_[static_cast<size_t>(s.layer)];
  uint8_t* base = slot_data(slot);
  return ExpertHandle(
      this, s.layer, s.expert,
      l.weights(s.expert, base + in_region(l.gate, s.expert), base + at.up_offset + in_region(l.up, s.expert),
                base + at.down_offset + in_region(l.down, s.expert)));
}

uint64_t SlabCacheStore::in_region(const ExpertTensor& t, int32_t expert) const {
  return reads_ == ExpertReads::kDirect ? t.slab(expert).offset % kPage : 0;
}

int32_t SlabCacheStore::pick_slot(bool spare_only) const {
  int32_t best = -1;
  bool best_this_round = false;
  EvictionKey best_key;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.state == SlotState::kFree) return static_cast<int32_t>(i);
    if (s.pins > 0) continue;  // pinned or loading: never a victim
    const ExpertUse& u = uses_[index_of(s.layer, s.expert)];
    // An expert the current round already used (or will use, or the reader fetched for the next round) is
    // needed; give it up only if nothing else can go, and never for a prefetch.
    const bool this_round = u.last_round == round_ || s.protect_until >= round_;
    if (this_round && spare_only) continue;
    const EvictionKey k = policy_->key(u, round_);
    bool better = best < 0;
    if (!better && this_round != best_this_round) better = !this_round;
    if (!better && this_round == best_this_round) {
      const Slot& b = slots_[static_cast<size_t>(best)];
      better = k < best_key || (k == best_key && std::pair(s.layer, s.expert) < std::pair(b.layer, b.expert));
    }
    if (better) {
      best = static_cast<int32_t>(i);
      best_key = k;
      best_this_round = this_round;
    }
  }
  return best;
}

Status SlabCacheStore::read_expert(int32_t layer, int32_t expert, uint8_t* into) const {
  const LayerExperts& l = table_[static_cast<size_t>(layer)];
  const LayerLayout& at = layout_[static_cast<size_t>(layer)];
  const std::pair<const ExpertTensor*, uint64_t> parts[] = {
      {&l.gate, 0}, {&l.up, at.up_offset}, {&l.down, at.down_offset}};
  for (const auto& [t, offset] : parts) {
    const ExpertSlab slab = t->slab(expert);
    Status s;
    if (reads_ == ExpertReads::kDirect) {
      // The whole pages around the slab, so that its bytes land at in_region() within the slot's region.
      const uint64_t first = slab.offset / kPage * kPage;
      const uint64_t length = align_up(slab.offset + slab.bytes - first, kPage);
      s = file_.read_direct(first, {into + offset, static_cast<size_t>(length)}, slab.offset + slab.bytes);
    } else {
      s = file_.read_at(slab.offset, {into + offset, static_cast<size_t>(slab.bytes)});
      if (s && reads_ == ExpertReads::kDropCache) file_.drop_cached(slab.offset, slab.bytes);
    }
    if (!s) return fail(s.error().code, "expert cache: layer {} expert {}: {}", layer, expert, s.error().message);
  }
  return {};
}

Result<ExpertHandle> SlabCacheStore::acquire(int32_t layer, int32_t expert) {
  if (auto s = check_expert_id(table_, layer, expert); !s) return tl::unexpected(s.error());
  const size_t index = index_of(layer, expert);
  std::unique_lock lock(mutex_);
  for (;;) {
    const int32_t at = slot_of_[index];
    if (at >= 0) {
      Slot& s = slots_[static_cast<size_t>(at)];
      if (s.state == SlotState::kLoading) {
        // Another thread is reading it: wait (a stall like a read of its own), then look again (its read may
        // have failed).
        const auto start = std::chrono::steady_clock::now();
        loaded_.wait(lock);
        stats_.read_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        continue;
      }
      return pin_loaded(at, index);
    }
    const int32_t slot = pick_slot(/*spare_only=*/false);
    if (slot < 0)
      return fail(ErrorCode::kOutOfRange,
                  "expert cache: all {} slots are pinned (more experts held at once than the {} threads it was sized "
                  "for); layer {} expert {} cannot be loaded",
                  slots_.size(), slots_.size(), layer, expert);
    ++stats_.misses;
    policy_->on_use(uses_[index], round_);
    if (auto st = fill_slot(lock, slot, layer, expert, /*stall=*/true); !st) return tl::unexpected(st.error());
    return handle_for(slot);
  }
}

ExpertHandle SlabCacheStore::pin_loaded(int32_t at, size_t index) {
  Slot& s = slots_[static_cast<size_t>(at)];
  ++s.pins;
  // A reader loaded it for this round: a miss whose read overlapped other work.
  if (std::exchange(s.demand, false))
    ++stats_.misses;
  else
    ++stats_.hits;
  if (std::exchange(s.prefetched, false)) ++stats_.prefetch_hits;
  policy_->on_use(uses_[index], round_);
  return handle_for(at);
}

Result<ExpertHandle> SlabCacheStore::acquire_now(int32_t layer, int32_t expert, bool low_bit) {
  if (auto s = check_expert_id(table_, layer, expert); !s) return tl::unexpected(s.error());
  if (low_bit && shadow_ == nullptr)
    return fail(ErrorCode::kInvalidInput, "expert cache: no low-bit shadow for layer {} expert {}", layer, expert);
  const size_t index = index_of(layer, expert);
  {
    std::lock_guard lock(mutex_);
    const int32_t at = slot_of_[index];
    if (at >= 0 && slots_[static_cast<size_t>(at)].state == SlotState::kReady) return pin_loaded(at, index);
    // Its read was queued when the layer routed; the use still counts for the eviction policy.
    policy_->on_use(uses_[index], round_);
    ++(low_bit ? stats_.shadow_uses : stats_.skipped);
  }
  if (!low_bit) return ExpertHandle{};
  return shadow_->acquire(layer, expert);
}

Status SlabCacheStore::fill_slot(std::unique_lock<std::mutex>& lock, int32_t slot, int32_t layer, int32_t expert,
                                 bool stall) {
  const size_t index = index_of(layer, expert);
  Slot& s = slots_[static_cast<size_t>(slot)];  // slots_ never resizes; a loading slot is this thread's alone
  if (s.state == SlotState::kReady) {
    slot_of_[index_of(s.layer, s.expert)] = -1;
    ++stats_.evictions;
  }
  s = Slot{.state = SlotState::kLoading, .layer = layer, .expert = expert, .pins = 1};
  slot_of_[index] = slot;

  lock.unlock();
  const auto start = std::chrono::steady_clock::now();
  Status read = read_expert(layer, expert, slot_data(slot));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  lock.lock();

  if (stall) stats_.read_seconds += seconds;
  if (!read) {
    s = Slot{};
    slot_of_[index] = -1;
    loaded_.notify_all();
    return read;
  }
  s.state = SlotState::kReady;
  const LayerExperts& l = table_[static_cast<size_t>(layer)];
  stats_.bytes_read += l.gate.slab_bytes() + l.up.slab_bytes() + l.down.slab_bytes();
  loaded_.notify_all();
  return {};
}

void SlabCacheStore::reader_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const auto [id, layer, expert, demand] = queue_.front();
    queue_.pop_front();
    if (slot_of_[index_of(layer, expert)] >= 0) continue;  // cached or being loaded already
    const int32_t slot = pick_slot(/*spare_only=*/true);
    if (slot < 0) continue;  // nothing to spare: the hint is dropped, the acquire will read it
    // A failed read is dropped too (the slot is free again): the acquire that needs the expert reads it
    // itself and reports the error.
    const uint64_t round = round_;
    if (fill_slot(lock, slot, layer, expert, /*stall=*/false)) {
      Slot& s = slots_[static_cast<size_t>(slot)];
      --s.pins;
      if (demand) {
        s.demand = true;
        s.protect_until = round;  // its round acquires it
      } else {
        s.prefetched = true;
        s.protect_until = round_ + 2;  // the hint came before this layer's round, for the next layer's
        ++stats_.prefetches;
      }
    }
  }
}

void SlabCacheStore::prefetch(int32_t layer, std::span<const int32_t> experts) {
  if (readers_.empty() || layer < 0 || static_cast<size_t>(layer) >= table_.size()) return;
  {
    std::lock_guard lock(mutex_);
    queue_hints(layer, experts, /*demand=*/false);
  }
  work_.notify_all();
}

void SlabCacheStore::queue_hints(int32_t layer, std::span<const int32_t> experts, bool demand) {
  // The newest hint is the most urgent: a predictor hints the next layer's experts, then the layer's own
  // misses come from ready_first. So the newest goes first, the one before it stays behind it, and older ones
  // are dropped (their layers have run).
  const uint64_t id = ++hint_id_;
  std::erase_if(queue_, [&](const Hint& h) { return h.id + 1 < id; });
  for (auto e = experts.rbegin(); e != experts.rend(); ++e)
    if (*e >= 0 && *e < table_[static_cast<size_t>(layer)].n_expert() && slot_of_[index_of(layer, *e)] < 0)
      queue_.push_front({.id = id, .layer = layer, .expert = *e, .demand = demand});
}

void SlabCacheStore::release(int32_t layer, int32_t expert) noexcept {
  std::lock_guard lock(mutex_);
  const int32_t at = slot_of_[index_of(layer, expert)];
  SY_ASSERT(at >= 0 && slots_[static_cast<size_t>(at)].pins > 0, "a live handle keeps its expert pinned in its slot");
  --slots_[static_cast<size_t>(at)].pins;
}

ReadySplit SlabCacheStore::order_and_queue(int32_t layer, std::span<int32_t> experts, bool split) {
  ++round_;
  const auto ready = std::stable_partition(experts.begin(), experts.end(), [&](int32_t e) {
    if (e < 0 || e >= table_[static_cast<size_t>(layer)].n_expert()) return false;
    const int32_t at = slot_of_[index_of(layer, e)];
    if (at < 0) return false;
    // Wanted by this round: the readers keep off it (a loading one too: it is this round's once loaded).
    slots_[static_cast<size_t>(at)].protect_until = round_;
    return slots_[static_cast<size_t>(at)].state == SlotState::kReady;
  });
  auto loading = ready;
  if (split)
    loading = std::stable_partition(ready, experts.end(), [&](int32_t e) {
      return e >= 0 && e < table_[static_cast<size_t>(layer)].n_expert() && slot_of_[index_of(layer, e)] >= 0;
    });
  const ReadySplit out{.ready = static_cast<size_t>(ready - experts.begin()),
                       .available = static_cast<size_t>(loading - experts.begin())};
  if (!readers_.empty() && out.ready < experts.size()) queue_hints(layer, experts.subspan(out.ready), /*demand=*/true);
  return out;
}

size_t SlabCacheStore::ready_first(int32_t layer, std::span<int32_t> experts) {
  if (layer < 0 || static_cast<size_t>(layer) >= table_.size()) return 0;  // acquire will name the bad id
  ReadySplit split;
  {
    std::lock_guard lock(mutex_);
    split = order_and_queue(layer, experts, /*split=*/false);
  }
  if (split.ready < experts.size()) work_.notify_all();
  return split.ready;
}

ReadySplit SlabCacheStore::ready_first_split(int32_t layer, std::span<int32_t> experts) {
  if (layer < 0 || static_cast<size_t>(layer) >= table_.size()) return {};  // acquire will name the bad id
  ReadySplit split;
  {
    std::lock_guard lock(mutex_);
    split = order_and_queue(layer, experts, /*split=*/true);
  }
  if (split.ready < experts.size()) work_.notify_all();
  return split;
}

std::optional<ExpertStoreStats> SlabCacheStore::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

int32_t SlabCacheStore::n_resident() const {
  std::lock_guard lock(mutex_);
  return static_cast<int32_t>(
      std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state != SlotState::kFree; }));
}

int32_t SlabCacheStore::n_pinned() const {
  std::lock_guard lock(mutex_);
  return static_cast<int32_t>(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.pins > 0; }));
}

bool SlabCacheStore::cached_experts(int32_t layer, std::span<uint8_t> out) const {
  std::fill(out.begin(), out.end(), uint8_t{0});
  if (layer < 0 || static_cast<size_t>(layer) >= table_.size()) return true;
  const size_t n = std::min(out.size(), static_cast<size_t>(table_[static_cast<size_t>(layer)].n_expert()));
  std::lock_guard lock(mutex_);
  for (size_t e = 0; e < n; ++e) {
    const int32_t at = slot_of_[index_of(layer, static_cast<int32_t>(e))];
    out[e] = at >= 0 && slots_[static_cast<size_t>(at)].state == SlotState::kReady ? 1 : 0;
  }
  return true;
}

bool SlabCacheStore::is_cached(int32_t layer, int32_t expert) const {
  if (!check_expert_id(table_, layer, expert)) return false;
  std::lock_guard lock(mutex_);
  const int32_t at = slot_of_[index_of(layer, expert)];
  return at >= 0 && slots_[static_cast<size_t>(at)].state == SlotState::kReady;
}

}  // namespace sy::moe
