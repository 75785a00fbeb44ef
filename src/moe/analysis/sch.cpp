#include "moe/analysis/sch.h"

#include <algorithm>
#include <unordered_map>

namespace sy::moe::analysis {

SchDepths sch_sequence(std::span<const std::vector<int32_t>> tokens, int32_t n_expert, int32_t lookahead) {
  const auto n_exp = static_cast<size_t>(std::max(n_expert, 0));
  const size_t n = tokens.size();
  const auto span_len = static_cast<size_t>(std::max(lookahead, 1));  // L
  SchDepths out;
  out.at_depth.assign(n_exp, 0);
  // Priority (window uses, stamp of the last use): the larger pair stays. Stamps count served uses from 1, so
  // two experts in the stack never tie.
  std::vector<uint64_t> window(n_exp, 0), stamp(n_exp, 0);
  std::vector<int32_t> stack;  // every expert seen so far; the cache of capacity C is stack[0 … C−1]
  std::vector<size_t> depth(n_exp, SIZE_MAX);
  stack.reserve(n_exp);
  for (size_t t = 0; t < std::min(span_len, n); ++t)
    for (int32_t e : tokens[t]) ++window[static_cast<size_t>(e)];
  uint64_t now = 0;
  auto keeps = [&](int32_t a, int32_t b) {  // a has the higher priority than b
    const auto x = static_cast<size_t>(a), y = static_cast<size_t>(b);
    return window[x] != window[y] ? window[x] > window[y] : stamp[x] > stamp[y];
  };
  for (size_t t = 0; t < n; ++t) {
    // Hits come from the cache as the token found it; first uses take the next depths (the warm start).
    size_t seen = stack.size();
    for (int32_t e : tokens[t]) {
      const size_t d = depth[static_cast<size_t>(e)];
      ++out.at_depth[d == SIZE_MAX ? seen++ : d];
      ++out.uses;
    }
    // Serve in slot order. Referencing x at depth d: x goes on top, and the displaced expert sinks past each
    // level where it has the lower priority (the cache of capacity C evicts its lowest-priority expert when
    // x was not in it: Mattson's stack update for a priority policy).
    for (int32_t x : tokens[t]) {
      const auto xi = static_cast<size_t>(x);
      size_t d = depth[xi];
      if (d == SIZE_MAX) {
        d = stack.size();
        stack.push_back(x);
      }
      int32_t carry = x;
      for (size_t j = 0; j < d; ++j) {
        if (j == 0 || keeps(carry, stack[j])) {
          std::swap(carry, stack[j]);
          depth[static_cast<size_t>(stack[j])] = j;
        }
      }
      stack[d] = carry;
      depth[static_cast<size_t>(carry)] = d;
      --window[xi];  // this token's use leaves the window once served
      stamp[xi] = ++now;
    }
    if (t + span_len < n)
      for (int32_t e : tokens[t + span_len]) ++window[static_cast<size_t>(e)];
  }
  return out;
}

std::vector<double> sch_rates(const SchDepths& d) {
  std::vector<double> r(d.at_depth.size(), 0.0);
  uint64_t hits = 0;
  for (size_t c = 0; c < r.size(); ++c) {
    hits += d.at_depth[c];
    r[c] = d.uses > 0 ? static_cast<double>(hits) / static_cast<double>(d.uses) : 0.0;
  }
  return r;
}

namespace {

// Mean over sequences (runs of equal seq that use at least one expert) of each sequence's rates.
std::vector<double> mean_over_sequences(const LayerStream& s, int32_t lookahead) {
  std::vector<double> sum(static_cast<size_t>(std::max(s.n_expert, 0)), 0.0);
  size_t n_seq = 0;
  const size_t n = s.tokens.size();
  for (size_t begin = 0; begin < n;) {
    size_t end = begin;
    while (end < n && s.seq[end] == s.seq[begin]) ++end;
    const SchDepths d = sch_sequence(std::span(s.tokens).subspan(begin, end - begin), s.n_expert, lookahead);
    if (d.uses > 0) {
      const std::vector<double> r = sch_rates(d);
      for (size_t c = 0; c < sum.size(); ++c) sum[c] += r[c];
      ++n_seq;
    }
    begin = end;
  }
  if (n_seq > 0)
    for (double& v : sum) v /= static_cast<double>(n_seq);
  return sum;
}

}  // namespace

std::vector<double> sch(const LayerStream& s, int32_t lookahead) { return mean_over_sequences(s, lookahead); }

LayerStream model_stream(std::span<const LayerStream> layers) {
  LayerStream m;
  if (layers.empty()) return m;
  m.layer = -1;
  std::vector<int32_t> offset;
  for (const LayerStream& l : layers) {
    offset.push_back(m.n_expert);
    m.n_expert += l.n_expert;
    m.k += l.k;
  }
  // Tokens in the first layer's order; the other layers are joined on (sequence, position).
  std::unordered_map<uint64_t, size_t> index;
  const LayerStream& first = layers[0];
  for (size_t t = 0; t < first.tokens.size(); ++t) {
    const uint64_t key = uint64_t{first.seq[t]} << 32 | first.pos[t];
    if (!index.emplace(key, m.tokens.size()).second) continue;
    m.tokens.emplace_back();
    m.seq.push_back(first.seq[t]);
    m.pos.push_back(first.pos[t]);
  }
  m.pred.resize(m.tokens.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerStream& l = layers[i];
    for (size_t t = 0; t < l.tokens.size(); ++t) {
      const auto it = index.find(uint64_t{l.seq[t]} << 32 | l.pos[t]);
      if (it == index.end()) continue;
      auto& ids = m.tokens[it->second];
      if (!ids.empty() && ids.back() >= offset[i]) continue;  // a repeated (seq, pos) in this layer: first wins
      for (int32_t e : l.tokens[t]) ids.push_back(offset[i] + e);
    }
  }
  return m;
}

std::vector<double> model_sch(std::span<const LayerStream> layers, int32_t lookahead) {
  return mean_over_sequences(model_stream(layers), lookahead);
}

}  // namespace sy::moe::analysis
