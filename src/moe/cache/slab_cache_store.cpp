#include "moe/cache/slab_cache_store.h"

#include <algorithm>
#include <chrono>
#include <new>
#include <utility>

namespace sy::moe {
namespace {

constexpr uint64_t kAlign = 64;  // a cache line: every matrix in a slot starts on one

uint64_t align_up(uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

bool has_experts(const LayerExperts& l) { return l.n_expert() > 0; }

}  // namespace

void SlabCacheStore::AlignedDelete::operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t{kAlign}); }

uint64_t SlabCacheStore::slot_bytes_for(const ExpertTable& table) {
  uint64_t most = 0;
  for (const LayerExperts& l : table)
    if (has_experts(l))
      most =
          std::max(most, align_up(l.gate.slab_bytes()) + align_up(l.up.slab_bytes()) + align_up(l.down.slab_bytes()));
  return most;
}

uint64_t SlabCacheStore::minimum_budget(const ExpertTable& table, int n_threads, bool prefetch) {
  return slot_bytes_for(table) * static_cast<uint64_t>(std::max(1, n_threads) + (prefetch ? 1 : 0));
}

Result<std::unique_ptr<SlabCacheStore>> SlabCacheStore::open(const ExpertTable& table,
                                                             const std::filesystem::path& path,
                                                             const SlabCacheOptions& options) {
  const uint64_t slot = slot_bytes_for(table);
  if (slot == 0)
    return fail(ErrorCode::kInvalidInput, "expert cache: {} has no routed experts to cache", path.string());
  const uint64_t minimum = minimum_budget(table, options.n_threads, options.prefetch);
  if (options.budget_bytes < minimum)
    return fail(ErrorCode::kOutOfRange,
                "expert cache: a budget of {} bytes is too small: the forward pass pins up to {} experts at once (one "
                "per thread{}), which needs at least {} bytes ({} bytes per expert slot)",
                options.budget_bytes, std::max(1, options.n_threads) + (options.prefetch ? 1 : 0),
                options.prefetch ? ", and one for the prefetch reader" : "", minimum, slot);
  auto file = PositionalFile::open(path);
  if (!file) return tl::unexpected(file.error());
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
  return std::unique_ptr<SlabCacheStore>(new SlabCacheStore(table, std::move(*file), options, n_slots));
}

SlabCacheStore::SlabCacheStore(const ExpertTable& table, PositionalFile file, const SlabCacheOptions& options,
                               int32_t n_slots)
    : table_(table), file_(std::move(file)), slot_bytes_(slot_bytes_for(table)) {
  int32_t moe_layers = 0;
  size_t base = 0;
  for (const LayerExperts& l : table_) {
    layer_base_.push_back(base);
    base += static_cast<size_t>(l.n_expert());
    const uint64_t up = align_up(l.gate.slab_bytes());
    layout_.push_back({.up_offset = up, .down_offset = up + align_up(l.up.slab_bytes())});
    moe_layers += has_experts(l) ? 1 : 0;
  }
  policy_ = make_eviction_policy(options.policy, moe_layers);
  // Not value-initialised: the pages are committed as experts arrive, and the budget is the ceiling.
  pool_.reset(new (std::align_val_t{kAlign}) uint8_t[static_cast<size_t>(slot_bytes_) * static_cast<size_t>(n_slots)]);
  slots_.resize(static_cast<size_t>(n_slots));
  slot_of_.assign(base, -1);
  uses_.resize(base);
  if (options.prefetch) reader_ = std::thread([this] { reader_loop(); });
}

SlabCacheStore::~SlabCacheStore() {
  if (!reader_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  reader_.join();
}

ExpertHandle SlabCacheStore::handle_for(int32_t slot) {
  const Slot& s = slots_[static_cast<size_t>(slot)];
  const LayerExperts& l = table_[static_cast<size_t>(s.layer)];
  const LayerLayout& at = layout_[static_cast<size_t>(s.layer)];
  uint8_t* base = slot_data(slot);
  return ExpertHandle(this, s.layer, s.expert, l.weights(s.expert, base, base + at.up_offset, base + at.down_offset));
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
    if (auto s = file_.read_at(slab.offset, {into + offset, static_cast<size_t>(slab.bytes)}); !s)
      return fail(s.error().code, "expert cache: layer {} expert {}: {}", layer, expert, s.error().message);
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
        // Another thread is reading it: wait, then look again (its read may have failed).
        loaded_.wait(lock);
        continue;
      }
      ++s.pins;
      ++stats_.hits;
      if (std::exchange(s.prefetched, false)) ++stats_.prefetch_hits;
      policy_->on_use(uses_[index], round_);
      return handle_for(at);
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
    const auto [id, layer, expert] = queue_.front();
    queue_.pop_front();
    if (slot_of_[index_of(layer, expert)] >= 0) continue;  // cached or being loaded already
    const int32_t slot = pick_slot(/*spare_only=*/true);
    if (slot < 0) continue;  // nothing to spare: the hint is dropped, the acquire will read it
    // A failed read is dropped too (the slot is free again): the acquire that needs the expert reads it
    // itself and reports the error.
    if (fill_slot(lock, slot, layer, expert, /*stall=*/false)) {
      Slot& s = slots_[static_cast<size_t>(slot)];
      --s.pins;
      s.prefetched = true;
      s.protect_until = round_ + 2;  // the hint came before this layer's round, for the next layer's
      ++stats_.prefetches;
    }
  }
}

void SlabCacheStore::prefetch(int32_t layer, std::span<const int32_t> experts) {
  if (!reader_.joinable() || layer < 0 || static_cast<size_t>(layer) >= table_.size()) return;
  {
    std::lock_guard lock(mutex_);
    // The newest hint is the most urgent: the MoE layer hints the experts it is about to acquire right after a
    // predictor hinted the next layer's. So the newest goes first, the one before it stays behind it, and older
    // ones are dropped (their layers have run).
    const uint64_t id = ++hint_id_;
    std::erase_if(queue_, [&](const Hint& h) { return h.id + 1 < id; });
    for (auto e = experts.rbegin(); e != experts.rend(); ++e)
      if (*e >= 0 && *e < table_[static_cast<size_t>(layer)].n_expert() && slot_of_[index_of(layer, *e)] < 0)
        queue_.push_front({.id = id, .layer = layer, .expert = *e});
  }
  work_.notify_one();
}

void SlabCacheStore::release(int32_t layer, int32_t expert) noexcept {
  std::lock_guard lock(mutex_);
  const int32_t at = slot_of_[index_of(layer, expert)];
  SY_ASSERT(at >= 0 && slots_[static_cast<size_t>(at)].pins > 0, "a live handle keeps its expert pinned in its slot");
  --slots_[static_cast<size_t>(at)].pins;
}

size_t SlabCacheStore::ready_first(int32_t layer, std::span<int32_t> experts) {
  if (layer < 0 || static_cast<size_t>(layer) >= table_.size()) return 0;  // acquire will name the bad id
  std::lock_guard lock(mutex_);
  ++round_;
  const auto ready = std::stable_partition(experts.begin(), experts.end(), [&](int32_t e) {
    if (e < 0 || e >= table_[static_cast<size_t>(layer)].n_expert()) return false;
    const int32_t at = slot_of_[index_of(layer, e)];
    if (at < 0 || slots_[static_cast<size_t>(at)].state != SlotState::kReady) return false;
    slots_[static_cast<size_t>(at)].protect_until = round_;  // wanted by this round: the reader keeps off it
    return true;
  });
  return static_cast<size_t>(ready - experts.begin());
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

bool SlabCacheStore::is_cached(int32_t layer, int32_t expert) const {
  if (!check_expert_id(table_, layer, expert)) return false;
  std::lock_guard lock(mutex_);
  const int32_t at = slot_of_[index_of(layer, expert)];
  return at >= 0 && slots_[static_cast<size_t>(at)].state == SlotState::kReady;
}

}  // namespace sy::moe
