#include "moe/analysis/load_stats.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_map>

namespace sy::moe::analysis {

std::vector<uint64_t> expert_load(const LayerStream& s) {
  std::vector<uint64_t> load(static_cast<size_t>(s.n_expert), 0);
  for (const auto& ids : s.tokens)
    for (int32_t e : ids) ++load[static_cast<size_t>(e)];
  return load;
}

Balance balance(std::span<const uint64_t> load) {
  Balance b;
  const double n = static_cast<double>(load.size());
  double total = 0.0;
  for (uint64_t v : load) total += static_cast<double>(v);
  if (load.empty() || total == 0.0) return b;
  const double mean = total / n;
  double var = 0.0, h = 0.0, max = 0.0;
  for (uint64_t v : load) {
    const double x = static_cast<double>(v);
    var += (x - mean) * (x - mean);
    max = std::max(max, x);
    if (v > 0) h -= x / total * std::log(x / total);
  }
  b.max_over_mean = max / mean;
  b.cv = std::sqrt(var / n) / mean;
  b.norm_entropy = load.size() > 1 ? h / std::log(n) : 1.0;
  return b;
}

std::vector<uint64_t> co_activation(const LayerStream& s) {
  const auto E = static_cast<size_t>(s.n_expert);
  std::vector<uint64_t> m(E * E, 0);
  for (const auto& ids : s.tokens)
    for (int32_t a : ids)
      for (int32_t b : ids)
        if (a != b) ++m[static_cast<size_t>(a) * E + static_cast<size_t>(b)];
  return m;
}

Affinity affinity(const LayerStream& l, const LayerStream& next) {
  Affinity a;
  a.n_from = l.n_expert;
  a.n_to = next.n_expert;
  const auto F = static_cast<size_t>(a.n_from), T = static_cast<size_t>(a.n_to);
  a.counts.assign(F * T, 0);
  a.from.assign(F, 0);
  std::unordered_map<uint64_t, size_t> at_next;
  for (size_t t = 0; t < next.tokens.size(); ++t) at_next[uint64_t{next.seq[t]} << 32 | next.pos[t]] = t;
  for (size_t t = 0; t < l.tokens.size(); ++t) {
    const auto it = at_next.find(uint64_t{l.seq[t]} << 32 | l.pos[t]);
    if (it == at_next.end()) continue;
    for (int32_t i : l.tokens[t]) {
      ++a.from[static_cast<size_t>(i)];
      for (int32_t j : next.tokens[it->second]) ++a.counts[static_cast<size_t>(i) * T + static_cast<size_t>(j)];
    }
  }
  a.prob.assign(F * T, 0.0);
  a.row_share.assign(F * T, 0.0);
  double weighted = 0.0, weight = 0.0;
  std::vector<uint64_t> row;
  for (size_t i = 0; i < F; ++i) {
    if (a.from[i] == 0) continue;
    uint64_t row_total = 0;
    for (size_t j = 0; j < T; ++j) {
      a.prob[i * T + j] = static_cast<double>(a.counts[i * T + j]) / static_cast<double>(a.from[i]);
      row_total += a.counts[i * T + j];
    }
    for (size_t j = 0; j < T && row_total > 0; ++j)
      a.row_share[i * T + j] = static_cast<double>(a.counts[i * T + j]) / static_cast<double>(row_total);
    row.assign(a.counts.begin() + static_cast<std::ptrdiff_t>(i * T),
               a.counts.begin() + static_cast<std::ptrdiff_t>((i + 1) * T));
    const size_t top = std::min(T, static_cast<size_t>(std::max(1, next.k)));
    std::partial_sort(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(top), row.end(), std::greater<>());
    uint64_t top_sum = 0;
    for (size_t j = 0; j < top; ++j) top_sum += row[j];
    if (row_total == 0) continue;
    weighted += static_cast<double>(a.from[i]) * static_cast<double>(top_sum) / static_cast<double>(row_total);
    weight += static_cast<double>(a.from[i]);
  }
  a.top_k_mass = weight > 0.0 ? weighted / weight : 0.0;
  return a;
}

Recall prediction_recall(const LayerStream& s) {
  Recall r;
  for (size_t t = 0; t < s.tokens.size(); ++t) {
    if (t >= s.pred.size() || s.pred[t].empty()) continue;
    for (int32_t e : s.tokens[t]) {
      ++r.chosen;
      if (std::find(s.pred[t].begin(), s.pred[t].end(), e) != s.pred[t].end()) ++r.hits;
    }
  }
  return r;
}

}  // namespace sy::moe::analysis
