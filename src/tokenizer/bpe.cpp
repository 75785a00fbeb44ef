#include "tokenizer/bpe.h"

#include <algorithm>

#include "tokenizer/byte_level.h"

namespace sy::tok {
namespace {

// Min-heap order: lower rank first, then the leftmost pair.
bool heap_after(const auto& a, const auto& b) { return a.rank > b.rank || (a.rank == b.rank && a.left > b.left); }

}  // namespace

BpeWordEncoder::BpeWordEncoder(const Vocab& vocab, bool ignore_merges) : vocab_(vocab), ignore_merges_(ignore_merges) {
  const auto& symbols = byte_level_symbols();
  for (int b = 0; b < 256; ++b) byte_token_[b] = vocab.find(symbols[b]).value_or(-1);
}

void BpeWordEncoder::try_add(int left, int right) {
  if (left < 0 || right < 0) return;
  const Symbol& l = symbols_[left];
  const Symbol& r = symbols_[right];
  if (l.id < 0 || r.id < 0) return;
  const MergeTable::Merge* m = vocab_.merge_table.find(l.id, r.id);
  if (!m) return;
  heap_.push_back({m->rank, left, right, m->result, l.len + r.len});
  std::push_heap(heap_.begin(), heap_.end(), [](const Bigram& a, const Bigram& b) { return heap_after(a, b); });
}

void BpeWordEncoder::emit_fallback(std::string_view bytes, std::vector<TokenId>& out) {
  // Text a merge produced that is no token: one token per byte, skipping bytes the vocabulary cannot spell.
  for (char c : bytes)
    if (byte_token_[static_cast<uint8_t>(c)] >= 0) out.push_back(byte_token_[static_cast<uint8_t>(c)]);
}

void BpeWordEncoder::encode(std::string_view word, std::vector<TokenId>& out) {
  if (word.empty()) return;
  if (ignore_merges_) {
    spelled_.clear();
    byte_level_encode(word, spelled_);
    if (auto id = vocab_.find(spelled_)) {
      out.push_back(*id);
      return;
    }
  }
  symbols_.clear();
  heap_.clear();
  const int n = static_cast<int>(word.size());
  for (int i = 0; i < n; ++i)
    symbols_.push_back({i - 1, i + 1 == n ? -1 : i + 1, static_cast<uint32_t>(i), 1,
                        byte_token_[static_cast<uint8_t>(word[static_cast<size_t>(i)])]});
  for (int i = 1; i < n; ++i) try_add(i - 1, i);

  const auto cmp = [](const Bigram& a, const Bigram& b) { return heap_after(a, b); };
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), cmp);
    const Bigram b = heap_.back();
    heap_.pop_back();
    Symbol& l = symbols_[b.left];
    Symbol& r = symbols_[b.right];
    // Skip pairs one of whose sides has changed since the pair was queued.
    if (l.len == 0 || r.len == 0 || l.next != b.right || l.len + r.len != b.size) continue;
    l.len += r.len;
    l.id = b.result;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols_[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  for (int i = 0; i != -1; i = symbols_[i].next) {
    const Symbol& s = symbols_[i];
    if (s.id >= 0) {
      out.push_back(s.id);
    } else {
      emit_fallback(word.substr(s.start, s.len), out);
    }
  }
}

}  // namespace sy::tok
