// routes diff: two traces' routing side by side (report.h).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "moe/analysis/load_stats.h"
#include "moe/analysis/report.h"
#include "moe/analysis/streams.h"

namespace sy::moe::analysis {

double js_divergence(std::span<const uint64_t> a, std::span<const uint64_t> b) {
  const double ta = std::accumulate(a.begin(), a.end(), 0.0), tb = std::accumulate(b.begin(), b.end(), 0.0);
  if (ta == 0.0 || tb == 0.0 || a.size() != b.size()) return 0.0;
  double js = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double p = static_cast<double>(a[i]) / ta, q = static_cast<double>(b[i]) / tb, m = 0.5 * (p + q);
    if (p > 0) js += 0.5 * p * std::log2(p / m);
    if (q > 0) js += 0.5 * q * std::log2(q / m);
  }
  return std::clamp(js, 0.0, 1.0);
}

std::vector<int32_t> busiest(std::span<const uint64_t> load, size_t n) {
  std::vector<int32_t> ids(load.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(),
                   [&](int32_t x, int32_t y) { return load[static_cast<size_t>(x)] > load[static_cast<size_t>(y)]; });
  ids.resize(std::min(n, ids.size()));
  return ids;
}

Result<nlohmann::json> routing_diff(const trace::Trace& a, const std::string& a_source, const trace::Trace& b,
                                    const std::string& b_source) {
  using nlohmann::json;
  const auto& la = a.header.layers;
  const auto& lb = b.header.layers;
  if (la.size() != lb.size())
    return tl::unexpected(
        Error{ErrorCode::kInvalidInput, fmt::format("{} has {} MoE layers and {} has {}: not traces of the same model",
                                                    a_source, la.size(), b_source, lb.size())});
  for (size_t i = 0; i < la.size(); ++i)
    if (la[i].layer != lb[i].layer || la[i].n_expert != lb[i].n_expert)
      return tl::unexpected(
          Error{ErrorCode::kInvalidInput,
                fmt::format("MoE layer {} of {} (block {}, {} experts) does not match {} (block {}, "
                            "{} experts): not traces of the same model",
                            i, a_source, la[i].layer, la[i].n_expert, b_source, lb[i].layer, lb[i].n_expert)});
  const std::vector<LayerStream> sa = layer_streams(a), sb = layer_streams(b);
  json layers = json::array();
  double js_sum = 0.0;
  for (size_t i = 0; i < sa.size(); ++i) {
    const auto load_a = expert_load(sa[i]), load_b = expert_load(sb[i]);
    const double ta = std::accumulate(load_a.begin(), load_a.end(), 0.0);
    const double tb = std::accumulate(load_b.begin(), load_b.end(), 0.0);
    std::vector<double> share_a, share_b, shift;
    for (size_t e = 0; e < load_a.size(); ++e) {
      share_a.push_back(ta > 0 ? static_cast<double>(load_a[e]) / ta : 0.0);
      share_b.push_back(tb > 0 ? static_cast<double>(load_b[e]) / tb : 0.0);
      shift.push_back(share_b.back() - share_a.back());
    }
    const size_t k = static_cast<size_t>(std::max(1, sa[i].k));
    const auto top_a = busiest(load_a, k), top_b = busiest(load_b, k);
    size_t common = 0;
    for (int32_t e : top_a) common += std::count(top_b.begin(), top_b.end(), e);
    const double js = js_divergence(load_a, load_b);
    js_sum += js;
    double tv = 0.0;
    for (double d : shift) tv += 0.5 * std::abs(d);
    layers.push_back({{"layer", sa[i].layer},
                      {"n_expert", sa[i].n_expert},
                      {"k", sa[i].k},
                      {"tokens", {sa[i].tokens.size(), sb[i].tokens.size()}},
                      {"load", {load_a, load_b}},
                      {"share", {share_a, share_b}},
                      {"shift", shift},
                      {"total_variation", tv},
                      {"js_divergence", js},
                      {"busiest", {top_a, top_b}},
                      {"busiest_overlap", static_cast<double>(common) / static_cast<double>(top_a.size())}});
  }
  return json{{"a", {{"file", a_source}, {"records", a.records.size()}, {"policy", a.header.policy}}},
              {"b", {{"file", b_source}, {"records", b.records.size()}, {"policy", b.header.policy}}},
              {"layers", layers},
              {"mean_js_divergence", sa.empty() ? 0.0 : js_sum / static_cast<double>(sa.size())}};
}

}  // namespace sy::moe::analysis
