// BPE merges keyed by the pair of token ids they join: an open-addressing table (one flat array, linear
// probing), because merge lookups are the inner loop of BPE and a node-based map costs a cache miss per probe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sy::tok {

class MergeTable {
 public:
  struct Merge {
    int32_t rank = -1;
    int32_t result = -1;  // the token the pair merges into, or -1 when the merged text is no token
  };

  void clear() { slots_.clear(), size_ = 0; }
  // Sizes the table for `n` merges (load factor at most 1/2).
  void reserve(size_t n);
  // Inserts unless the pair is already there (a repeated merge keeps its first, best, rank).
  void insert(int32_t left, int32_t right, Merge merge);
  // The merge of (left, right), or nullptr.
  const Merge* find(int32_t left, int32_t right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = pack(left, right);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.merge;
      if (s.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // no pair of valid ids (both < 2^31) packs to this
  struct Slot {
    uint64_t key = kEmpty;
    Merge merge;
  };
  static uint64_t pack(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  static size_t hash(uint64_t key) {
    key ^= key >> 33;  // a 64-bit finaliser mix (as in MurmurHash3): ids are small, dense integers
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return static_cast<size_t>(key);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace sy::tok
