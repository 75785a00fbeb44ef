#include "tokenizer/spm.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace sy::tok {
namespace {

// Max-heap order: higher score first, then the leftmost pair.
bool heap_before(const auto& a, const auto& b) { return a.score < b.score || (a.score == b.score && a.left > b.left); }

}  // namespace

void SpmEncoder::try_add(int left, int right) {
  if (left < 0 || right < 0) return;
  const Symbol& l = symbols_[left];
  const Symbol& r = symbols_[right];
  const std::string_view merged = text_.substr(l.start, l.len + r.len);  // neighbours are contiguous
  auto id = vocab_.find(merged);
  if (!id) return;
  heap_.push_back({vocab_.scores[static_cast<size_t>(*id)], left, right, l.len + r.len});
  std::push_heap(heap_.begin(), heap_.end(), [](const Bigram& a, const Bigram& b) { return heap_before(a, b); });
}

void SpmEncoder::encode(std::string_view text, std::vector<TokenId>& out) {
  text_ = text;
  symbols_.clear();
  heap_.clear();
  for (size_t pos = 0; pos < text.size();) {
    const size_t len = std::min(utf8_sequence_length(static_cast<uint8_t>(text[pos])), text.size() - pos);
    const int index = static_cast<int>(symbols_.size());
    symbols_.push_back(
        {index - 1, pos + len == text.size() ? -1 : index + 1, static_cast<uint32_t>(pos), static_cast<uint32_t>(len)});
    pos += len;
  }
  if (symbols_.empty()) return;
  for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) try_add(i - 1, i);

  const auto cmp = [](const Bigram& a, const Bigram& b) { return heap_before(a, b); };
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), cmp);
    const Bigram b = heap_.back();
    heap_.pop_back();
    Symbol& l = symbols_[b.left];
    Symbol& r = symbols_[b.right];
    if (l.len == 0 || r.len == 0 || l.next != b.right || l.len + r.len != b.size) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols_[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  for (int i = 0; i != -1; i = symbols_[i].next) {
    const std::string_view piece = text.substr(symbols_[i].start, symbols_[i].len);
    if (auto id = vocab_.find(piece)) {
      out.push_back(*id);
      continue;
    }
    // Byte fallback; a vocabulary without byte tokens gets <unk> for each byte instead.
    for (char c : piece) {
      const TokenId id = byte_tokens_[static_cast<uint8_t>(c)];
      if (id >= 0) {
        out.push_back(id);
      } else if (vocab_.special.unk) {
        out.push_back(*vocab_.special.unk);
      }
    }
  }
}

}  // namespace sy::tok
