#include "moe/analysis/locality.h"

#include <algorithm>
#include <limits>

namespace sy::moe::analysis {

SrpCounts srp_counts(const LayerStream& s, int32_t m) {
  SrpCounts c;
  c.m = m;
  c.matches.assign(static_cast<size_t>(m), 0);
  c.predictions.assign(static_cast<size_t>(m), 0);
  const auto E = static_cast<size_t>(s.n_expert);
  const size_t n = s.tokens.size();
  std::vector<int32_t> count(E, 0);
  // Sequences are runs of equal `seq`; a window lies inside one run.
  for (size_t begin = 0; begin < n;) {
    size_t end = begin;
    while (end < n && s.seq[end] == s.seq[begin]) ++end;
    if (end - begin >= static_cast<size_t>(m)) {
      std::fill(count.begin(), count.end(), 0);
      for (size_t t = begin; t < end; ++t) {
        for (int32_t e : s.tokens[t]) ++count[static_cast<size_t>(e)];
        if (t >= begin + static_cast<size_t>(m))
          for (int32_t e : s.tokens[t - static_cast<size_t>(m)]) --count[static_cast<size_t>(e)];
        if (t + 1 < begin + static_cast<size_t>(m)) continue;  // window not full yet
        for (size_t e = 0; e < E; ++e) {
          const auto v = static_cast<uint64_t>(count[e]);
          c.actual += v;
          for (int32_t tau = 1; tau <= std::min<int32_t>(count[e], m); ++tau) {
            c.matches[static_cast<size_t>(tau - 1)] += v;
            c.predictions[static_cast<size_t>(tau - 1)] += static_cast<uint64_t>(m);
          }
        }
      }
    }
    begin = end;
  }
  return c;
}

void accumulate(SrpCounts& into, const SrpCounts& more) {
  if (into.m == 0) {
    into = more;
    return;
  }
  for (size_t i = 0; i < into.matches.size() && i < more.matches.size(); ++i) {
    into.matches[i] += more.matches[i];
    into.predictions[i] += more.predictions[i];
  }
  into.actual += more.actual;
}

Srp best_srp(const SrpCounts& c) {
  Srp best;
  for (size_t i = 0; i < c.matches.size(); ++i) {
    const double denom = static_cast<double>(c.predictions[i] + c.actual);
    if (denom == 0.0) continue;
    const double f1 = 2.0 * static_cast<double>(c.matches[i]) / denom;
    if (f1 > best.f1) {
      best = {.f1 = f1,
              .tau = static_cast<int32_t>(i + 1),
              .ratio = c.actual > 0 ? static_cast<double>(c.predictions[i]) / static_cast<double>(c.actual) : 0.0};
    }
  }
  return best;
}

CacheCounts cache_counts(const LayerStream& s, int32_t capacity, CachePolicy policy) {
  CacheCounts out;
  const auto E = static_cast<size_t>(s.n_expert);
  const size_t n = s.tokens.size();
  constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
  std::vector<std::vector<uint64_t>> uses_at(E);  // token indices where each expert is used, increasing
  if (policy == CachePolicy::kBelady)
    for (size_t t = 0; t < n; ++t)
      for (int32_t e : s.tokens[t]) uses_at[static_cast<size_t>(e)].push_back(t);
  std::vector<uint8_t> cached(E, 0), in_token(E, 0);
  std::vector<uint64_t> last_use(E, 0), freq(E, 0);
  std::vector<int32_t> cache;
  // Eviction priority: the victim is the cached expert with the smallest key.
  auto key = [&](int32_t e, uint64_t t) -> std::pair<uint64_t, uint64_t> {
    const auto x = static_cast<size_t>(e);
    switch (policy) {
      case CachePolicy::kLru: return {0, last_use[x]};
      case CachePolicy::kLfu: return {freq[x], last_use[x]};
      case CachePolicy::kBelady: {
        const auto& u = uses_at[x];
        const auto it = std::upper_bound(u.begin(), u.end(), t);
        return {it == u.end() ? 0 : kNever - *it, last_use[x]};  // farther next use → smaller key
      }
    }
    return {0, 0};
  };
  for (size_t t = 0; t < n; ++t) {
    const auto& ids = s.tokens[t];
    for (int32_t e : ids) {
      ++out.uses;
      if (cached[static_cast<size_t>(e)] != 0) ++out.hits;
      in_token[static_cast<size_t>(e)] = 1;
    }
    for (int32_t e : ids) {
      const auto x = static_cast<size_t>(e);
      ++freq[x];
      last_use[x] = t;
      if (cached[x] != 0 || capacity <= 0) continue;
      if (static_cast<int32_t>(cache.size()) < capacity) {
        cache.push_back(e);
        cached[x] = 1;
        continue;
      }
      int victim = -1;
      for (size_t i = 0; i < cache.size(); ++i) {
        if (in_token[static_cast<size_t>(cache[i])] != 0) continue;
        if (victim < 0) {
          victim = static_cast<int>(i);
          continue;
        }
        const auto a = key(cache[i], t), b = key(cache[static_cast<size_t>(victim)], t);
        if (a < b || (a == b && cache[i] < cache[static_cast<size_t>(victim)])) victim = static_cast<int>(i);
      }
      if (victim < 0) continue;  // every cached expert is in use by this token
      cached[static_cast<size_t>(cache[static_cast<size_t>(victim)])] = 0;
      cache[static_cast<size_t>(victim)] = e;
      cached[x] = 1;
    }
    for (int32_t e : ids) in_token[static_cast<size_t>(e)] = 0;
  }
  return out;
}

double cache_hit_rate(const LayerStream& s, int32_t capacity, CachePolicy policy) {
  const CacheCounts c = cache_counts(s, capacity, policy);
  return c.uses > 0 ? static_cast<double>(c.hits) / static_cast<double>(c.uses) : 0.0;
}

}  // namespace sy::moe::analysis
