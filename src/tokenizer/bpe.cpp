#include "tokenizer/bpe.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace sy::tok {
namespace {

// Min-heap order: lower rank first, then the leftmost pair.
bool heap_after(const auto& a, const auto& b) { return a.rank > b.rank || (a.rank == b.rank && a.left > b.left); }

}  // namespace

void BpeWordEncoder::try_add(int left, int right) {
  if (left < 0 || right < 0) return;
  const Symbol& l = symbols_[left];
  const Symbol& r = symbols_[right];
  key_.assign(word_.substr(l.start, l.len));
  key_ += ' ';
  key_.append(word_.substr(r.start, r.len));
  auto it = vocab_.merge_ranks.find(key_);
  if (it == vocab_.merge_ranks.end()) return;
  heap_.push_back({it->second, left, right, l.len + r.len});
  std::push_heap(heap_.begin(), heap_.end(), [](const Bigram& a, const Bigram& b) { return heap_after(a, b); });
}

void BpeWordEncoder::encode(std::string_view word, std::vector<TokenId>& out) {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (auto id = vocab_.find(word)) {
      out.push_back(*id);
      return;
    }
  }
  word_ = word;
  symbols_.clear();
  heap_.clear();
  for (size_t pos = 0; pos < word.size();) {
    const size_t len = std::min(utf8_sequence_length(static_cast<uint8_t>(word[pos])), word.size() - pos);
    const int index = static_cast<int>(symbols_.size());
    symbols_.push_back({index - 1, pos + len == word.size() ? -1 : index + 1, static_cast<uint32_t>(pos),
                        static_cast<uint32_t>(len)});
    pos += len;
  }
  for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) try_add(i - 1, i);

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
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols_[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  for (int i = 0; i != -1; i = symbols_[i].next) {
    const std::string_view piece = word.substr(symbols_[i].start, symbols_[i].len);
    if (auto id = vocab_.find(piece)) {
      out.push_back(*id);
      continue;
    }
    // A merge produced text that is no token: fall back to one token per character, dropping what the
    // vocabulary cannot spell (llama.cpp does the same).
    for (size_t pos = 0; pos < piece.size();) {
      const size_t len = std::min(utf8_sequence_length(static_cast<uint8_t>(piece[pos])), piece.size() - pos);
      if (auto id = vocab_.find(piece.substr(pos, len))) out.push_back(*id);
      pos += len;
    }
  }
}

}  // namespace sy::tok
