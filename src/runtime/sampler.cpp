#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace sy::runtime {

int32_t argmax(std::span<const float> logits) {
  int32_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[static_cast<size_t>(best)]) best = static_cast<int32_t>(i);
  return best;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  const SamplingParams& p = params_;
  candidates_.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) candidates_[i] = {logits[i], static_cast<int32_t>(i)};
  const bool penalise = p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
  if (penalise && p.repeat_last_n != 0) {
    const size_t n =
        p.repeat_last_n < 0 ? history.size() : std::min(history.size(), static_cast<size_t>(p.repeat_last_n));
    // Each distinct recent token once, with its count: sorted ids, then runs.
    counts_.clear();
    for (auto it = history.end() - static_cast<std::ptrdiff_t>(n); it != history.end(); ++it)
      counts_.push_back({*it, 1});
    std::sort(counts_.begin(), counts_.end());
    size_t distinct = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (distinct > 0 && counts_[distinct - 1].first == counts_[i].first)
        ++counts_[distinct - 1].second;
      else
        counts_[distinct++] = counts_[i];
    }
    counts_.resize(distinct);
    for (const auto& [t, count] : counts_) {
      if (t < 0 || static_cast<size_t>(t) >= candidates_.size()) continue;
      float& l = candidates_[static_cast<size_t>(t)].first;
      if (p.repeat_penalty != 1.0f) l = l > 0 ? l / p.repeat_penalty : l * p.repeat_penalty;
      l -= static_cast<float>(count) * p.frequency_penalty + p.presence_penalty;
    }
  }
  // Largest first, lowest id on ties: greedy is then simply the first candidate.
  auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  if (p.temperature <= 0.0f) return std::min_element(candidates_.begin(), candidates_.end(), by_logit)->second;
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < candidates_.size()) {
    // Only the k best need ordering: a partial sort of a 150k vocabulary is ~20x cheaper than a full one.
    const auto kth = candidates_.begin() + p.top_k;
    std::partial_sort(candidates_.begin(), kth, candidates_.end(), by_logit);
    candidates_.erase(kth, candidates_.end());
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }
  // Softmax at the temperature; candidates_[i].first becomes a probability.
  const float max = candidates_.front().first;
  double sum = 0.0;
  for (auto& c : candidates_) sum += (c.first = std::exp((c.first - max) / p.temperature));
  for (auto& c : candidates_) c.first = static_cast<float>(c.first / sum);
  if (p.top_p < 1.0f) {
    double cum = 0.0;
    size_t keep = candidates_.size();
    for (size_t i = 0; i < candidates_.size(); ++i) {
      cum += candidates_[i].first;
      if (cum >= p.top_p) {
        keep = i + 1;
        break;
      }
    }
    candidates_.resize(keep);
  }
  if (p.min_p > 0.0f) {
    const float floor = candidates_.front().first * p.min_p;
    size_t keep = 1;
    while (keep < candidates_.size() && candidates_[keep].first >= floor) ++keep;
    candidates_.resize(keep);
  }
  double total = 0.0;
  for (const auto& c : candidates_) total += c.first;
  std::uniform_real_distribution<double> draw(0.0, total);
  double r = draw(rng_);
  for (const auto& c : candidates_) {
    r -= c.first;
    if (r <= 0.0) return c.second;
  }
  return candidates_.back().second;
}

}  // namespace sy::runtime
