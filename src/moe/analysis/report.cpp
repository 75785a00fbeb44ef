#include "moe/analysis/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "moe/analysis/load_stats.h"
#include "moe/analysis/locality.h"
#include "moe/analysis/sch.h"
#include "moe/analysis/streams.h"

namespace sy::moe::analysis {
namespace {

using nlohmann::json;

constexpr int32_t kSegmentLengths[] = {1, 2, 4, 8, 16, 32, 64, 128};
// What a report draws is sized by the trace header's counts, so a forged header must not make it huge. Far
// above real models (DeepSeek-V3: 58 MoE layers × 256 experts; Kimi K2: 60 × 384):
// - the layer × expert table (load, the load heat map, SCH curves): layers with records × the most experts of a
//   layer;
constexpr uint64_t kMaxLayerExpertCells = uint64_t{1} << 18;
// - the expert × expert matrices (co-activation, affinity) of all layers together; past this they are left
//   out of the report layer by layer, saying so, and the other figures stay.
constexpr uint64_t kMaxMatrixCells = uint64_t{1} << 22;

// Every capacity up to 32 experts, then a coarser grid (the simulations cost tokens × k × capacity).
std::vector<int32_t> capacities(int32_t n_expert) {
  std::set<int32_t> c;
  for (int32_t i = 1; i <= std::min(n_expert, 32); ++i) c.insert(i);
  double x = 32;
  while (x < n_expert) {
    c.insert(static_cast<int32_t>(x));
    x *= 1.25;
  }
  c.insert(n_expert);
  return {c.begin(), c.end()};
}

std::vector<int32_t> one_to(int32_t n) {
  std::vector<int32_t> v;
  for (int32_t i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

json matrix(const auto& flat, int32_t rows, int32_t cols) {
  json m = json::array();
  for (int32_t r = 0; r < rows; ++r)
    m.push_back(std::vector<typename std::decay_t<decltype(flat)>::value_type>(
        flat.begin() + static_cast<std::ptrdiff_t>(r) * cols,
        flat.begin() + static_cast<std::ptrdiff_t>(r + 1) * cols));
  return m;
}

// The continuous-stream simulations: one cache per layer across all sequences, as the expert cache runs.
json stream_curves(const LayerStream& s) {
  const std::vector<int32_t> caps = capacities(s.n_expert);
  // The simulations run on the experts the stream uses, renumbered in order (0, 1, … for the used ids from the
  // lowest up), which keeps every tie-break and so every hit rate, but sizes their tables by the used experts
  // rather than the layer's count (16384 of which cost seconds per simulation). A cache as large as the number
  // of used experts never evicts, so every larger capacity has that one's hit rate: simulated once.
  std::vector<int32_t> dense(static_cast<size_t>(s.n_expert), -1);
  for (const auto& ids : s.tokens)
    for (int32_t e : ids)
      if (e >= 0 && e < s.n_expert) dense[static_cast<size_t>(e)] = 0;
  int32_t distinct = 0;
  for (int32_t& d : dense)
    if (d == 0) d = distinct++;
  LayerStream used = s;
  used.n_expert = std::max(distinct, 1);
  for (auto& ids : used.tokens)
    for (int32_t& e : ids) e = e >= 0 && e < s.n_expert ? dense[static_cast<size_t>(e)] : e;
  json c{{"capacity", caps}};
  const std::pair<const char*, CachePolicy> policies[] = {
      {"lru", CachePolicy::kLru}, {"lfu", CachePolicy::kLfu}, {"belady", CachePolicy::kBelady}};
  for (const auto& [name, policy] : policies) {
    json v = json::array();
    int32_t last_cap = -1;
    double last = 0.0;
    for (int32_t cap : caps) {
      const int32_t effective = std::min(cap, std::max(distinct, 1));
      if (effective != last_cap) last = cache_hit_rate(used, effective, policy);
      last_cap = effective;
      v.push_back(last);
    }
    c[name] = v;
  }
  return c;
}

// The paper's SCH for every capacity 1 … n_expert and each look-ahead.
json sch_curves(const LayerStream& s, const ReportOptions& o) {
  json c{{"capacity", one_to(s.n_expert)}, {"L", json::object()}};
  for (int32_t window : o.sch_lookaheads) c["L"][std::to_string(window)] = sch(s, window);
  return c;
}

}  // namespace

Result<json> routing_report(const trace::Trace& t, const std::string& source, const ReportOptions& options) {
  std::vector<LayerStream> streams = layer_streams(t);
  std::set<uint32_t> sequences;
  for (const auto& r : t.records) sequences.insert(r.seq);
  // Only the layers with records are reported: a layer nobody routed through has no figures to draw.
  std::vector<int32_t> without_records;
  uint64_t max_expert = 0;
  std::erase_if(streams, [&](const LayerStream& s) {
    if (!s.tokens.empty()) return false;
    without_records.push_back(s.layer);
    return true;
  });
  for (const LayerStream& s : streams) max_expert = std::max<uint64_t>(max_expert, static_cast<uint64_t>(s.n_expert));
  if (streams.size() * max_expert > kMaxLayerExpertCells)
    return fail(ErrorCode::kInvalidInput,
                "{}: {} MoE layers with records of up to {} experts: the report draws at most {} layer × expert cells",
                source, streams.size(), max_expert, kMaxLayerExpertCells);
  json report{{"trace",
               {{"file", source},
                {"records", t.records.size()},
                {"truncated_bytes", t.truncated_bytes},
                {"policy", t.header.policy},
                {"sequences", sequences.size()},
                {"n_layer", t.header.n_layer},
                {"has_predictions", t.header.pred_slots > 0}}}};
  if (!without_records.empty()) report["trace"]["layers_without_records"] = without_records;
  json layers = json::array();
  std::vector<SrpCounts> model_srp(std::size(kSegmentLengths));
  Recall model_recall;
  uint64_t matrix_cells = 0;
  for (size_t i = 0; i < streams.size(); ++i) {
    const LayerStream& s = streams[i];
    const auto load = expert_load(s);
    const Balance b = balance(load);
    uint64_t chosen = 0;
    for (uint64_t v : load) chosen += v;
    std::vector<uint64_t> per_token(t.header.slots + 1, 0);  // [n] tokens that chose n experts
    for (const auto& ids : s.tokens) ++per_token[std::min(ids.size(), per_token.size() - 1)];
    json l{{"layer", s.layer},
           {"n_expert", s.n_expert},
           {"k", s.k},
           {"tokens", s.tokens.size()},
           {"mean_experts_per_token",
            s.tokens.empty() ? 0.0 : static_cast<double>(chosen) / static_cast<double>(s.tokens.size())},
           {"experts_per_token", per_token},
           {"load", load},
           {"balance", {{"max_over_mean", b.max_over_mean}, {"cv", b.cv}, {"norm_entropy", b.norm_entropy}}}};
    const auto e = static_cast<uint64_t>(s.n_expert);
    const bool has_next = i + 1 < streams.size();
    const uint64_t cells = e * e + (has_next ? e * static_cast<uint64_t>(streams[i + 1].n_expert) : 0);
    if (matrix_cells + cells > kMaxMatrixCells) {
      l["matrices_omitted"] = fmt::format(
          "co-activation and affinity left out: with this layer's {} cells the report's expert × expert matrices "
          "would pass {} cells",
          cells, kMaxMatrixCells);
    } else {
      matrix_cells += cells;
      l["co_activation"] = matrix(co_activation(s), s.n_expert, s.n_expert);
      if (has_next) {
        const Affinity a = affinity(s, streams[i + 1]);
        l["affinity_to_next"] = {{"next_layer", streams[i + 1].layer},
                                 {"prob", matrix(a.row_share, a.n_from, a.n_to)},  // rows sum to 1
                                 {"top_k_mass", a.top_k_mass}};
      }
    }
    json srp = json::array();
    for (size_t j = 0; j < std::size(kSegmentLengths); ++j) {
      const SrpCounts c = srp_counts(s, kSegmentLengths[j]);
      if (c.actual == 0) continue;
      accumulate(model_srp[j], c);
      const Srp best = best_srp(c);
      srp.push_back({{"m", kSegmentLengths[j]}, {"srp", best.f1}, {"tau", best.tau}, {"ratio", best.ratio}});
    }
    l["srp"] = srp;
    l["sch"] = sch_curves(s, options);
    l["cache_stream"] = stream_curves(s);
    const Recall r = prediction_recall(s);
    if (r.chosen > 0) l["prediction_recall"] = r.value();
    model_recall.hits += r.hits;
    model_recall.chosen += r.chosen;
    layers.push_back(std::move(l));
  }
  report["layers"] = layers;
  json srp = json::array();
  for (size_t j = 0; j < model_srp.size(); ++j) {
    if (model_srp[j].actual == 0) continue;
    const Srp best = best_srp(model_srp[j]);
    srp.push_back({{"m", kSegmentLengths[j]}, {"srp", best.f1}, {"tau", best.tau}, {"ratio", best.ratio}});
  }
  report["model"] = {{"srp", srp}};
  if (!streams.empty()) {
    const LayerStream joined = model_stream(streams);
    report["model"]["sch"] = sch_curves(joined, options);
    report["model"]["sch"]["active_experts"] = joined.k;  // the paper's axis unit: capacity / (k · MoE layers)
  }
  if (!streams.empty()) {
    // switchyard's expert cache: one pool for all layers (pool_stream), at 1, 1.5, 2, 3, 4 … × the experts a
    // token activates over all layers, up to all experts.
    const LayerStream pool = pool_stream(streams);
    std::set<int32_t> caps;
    for (double m : {1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0})
      caps.insert(std::min(pool.n_expert, std::max(1, static_cast<int32_t>(m * pool.k))));
    caps.insert(pool.n_expert);
    json c{{"capacity", std::vector<int32_t>(caps.begin(), caps.end())}, {"active_experts", pool.k}};
    for (const auto& [name, policy] : {std::pair("lru", CachePolicy::kLru), std::pair("lfu", CachePolicy::kLfu)}) {
      json v = json::array();
      for (int32_t cap : caps) v.push_back(cache_hit_rate(pool, cap, policy));
      c[name] = v;
    }
    report["model"]["cache_pool"] = c;
  }
  if (model_recall.chosen > 0) report["model"]["prediction_recall"] = model_recall.value();
  return report;
}

}  // namespace sy::moe::analysis
