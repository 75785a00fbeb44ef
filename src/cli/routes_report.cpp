// `switchyard routes report TRACE -o DIR`: writes DIR/report.json and DIR/report.html (docs/routing.md).
#include "cli/routes_report.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "cli/commands.h"
#include "core/error.h"
#include "core/file_io.h"
#include "moe/analysis/load_stats.h"
#include "moe/analysis/locality.h"
#include "moe/analysis/streams.h"

namespace sy::cli {
namespace {

using nlohmann::json;
namespace an = moe::analysis;

constexpr int32_t kSegmentLengths[] = {1, 2, 4, 8, 16, 32, 64, 128};
// What a report draws is sized by the trace header's counts, so a forged header must not make it huge. Far
// above real models (DeepSeek-V3: 58 MoE layers × 256 experts; Kimi K2: 60 × 384):
// - the layer × expert table (load, the load heat map): layers with records × the most experts of a layer;
constexpr uint64_t kMaxLayerExpertCells = uint64_t{1} << 18;
// - the expert × expert matrices (co-activation, affinity) of all layers together; past this they are left
//   out of the report layer by layer, saying so, and the other figures stay.
constexpr uint64_t kMaxMatrixCells = uint64_t{1} << 22;
constexpr int32_t kLookaheads[] = {1, 4, 16};

// Every capacity up to 32 experts, then a coarser grid (the simulations cost tokens × k × capacity).
std::vector<int32_t> capacities(int32_t n_expert) {
  std::set<int32_t> c;
  for (int32_t i = 1; i <= std::min(n_expert, 32); ++i) c.insert(i);
  for (double x = 32; x < n_expert; x *= 1.25) c.insert(static_cast<int32_t>(x));
  c.insert(n_expert);
  return {c.begin(), c.end()};
}

json matrix(const auto& flat, int32_t rows, int32_t cols) {
  json m = json::array();
  for (int32_t r = 0; r < rows; ++r)
    m.push_back(std::vector<typename std::decay_t<decltype(flat)>::value_type>(
        flat.begin() + static_cast<std::ptrdiff_t>(r) * cols,
        flat.begin() + static_cast<std::ptrdiff_t>(r + 1) * cols));
  return m;
}

json cache_curves(const an::LayerStream& s) {
  const std::vector<int32_t> caps = capacities(s.n_expert);
  // The simulations run on the experts the stream uses, renumbered in order (0, 1, … for the used ids from the
  // lowest up), which keeps every tie-break and so every hit rate, but sizes their tables by the used experts
  // rather than the layer's count (16384 of which cost seconds per simulation). A cache as large as the number
  // of used experts never evicts, so every larger capacity has that one's hit rate: simulated once.
  std::vector<int32_t> dense(static_cast<size_t>(s.n_expert), -1);
  for (const auto& ids : s.tokens)
    for (int32_t e : ids) dense[static_cast<size_t>(e)] = 0;
  int32_t distinct = 0;
  for (int32_t& d : dense)
    if (d == 0) d = distinct++;
  an::LayerStream used = s;
  used.n_expert = std::max(distinct, 1);
  for (auto& ids : used.tokens)
    for (int32_t& e : ids) e = dense[static_cast<size_t>(e)];
  const auto curve = [&](an::CachePolicy policy, int32_t lookahead) {
    json v = json::array();
    int32_t last_cap = -1;
    double last = 0.0;
    for (int32_t cap : caps) {
      const int32_t effective = std::min(cap, distinct);
      if (effective != last_cap) last = an::cache_hit_rate(used, effective, policy, lookahead);
      last_cap = effective;
      v.push_back(last);
    }
    return v;
  };
  json c{{"capacity", caps}};
  const std::pair<const char*, an::CachePolicy> policies[] = {
      {"lru", an::CachePolicy::kLru}, {"lfu", an::CachePolicy::kLfu}, {"belady", an::CachePolicy::kBelady}};
  for (const auto& [name, policy] : policies) c[name] = curve(policy, 0);
  for (int32_t L : kLookaheads) c["sch"][std::to_string(L)] = curve(an::CachePolicy::kLookahead, L);
  return c;
}

void run_report(const std::string& trace_path, const std::string& dir) {
  const std::filesystem::path inputs[] = {trace_path};
  for (const char* name : {"report.json", "report.html"})
    value_or_throw(check_output_path(std::filesystem::path(dir) / name, inputs, "routes report -o"));
  const moe::trace::Trace t = value_or_throw(moe::trace::read_trace(trace_path));
  if (t.records.empty())
    throw Exception(Error{ErrorCode::kInvalidInput, fmt::format("{}: the trace has no records", trace_path)});
  const json report = value_or_throw(routing_report(t, trace_path));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Exception(Error{ErrorCode::kIo, fmt::format("cannot create {}: {}", dir, ec.message())});
  // File names and the policy text come from outside and need not be UTF-8: bytes that are not become U+FFFD.
  const std::pair<std::string, std::string> files[] = {
      {"report.json", report.dump(1, ' ', false, json::error_handler_t::replace)},
      {"report.html", report_html(report)}};
  for (const auto& [name, text] : files) {
    const auto path = std::filesystem::path(dir) / name;
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out.flush()) throw Exception(Error{ErrorCode::kIo, fmt::format("writing {} failed", path.string())});
  }
  fmt::print("wrote {}/report.json and {}/report.html ({} records, {} MoE layers)\n", dir, dir, t.records.size(),
             t.header.layers.size());
}

void register_routes(CLI::App& app) {
  auto* routes = app.add_subcommand("routes", "Analyse routing traces");
  routes->require_subcommand(1);
  auto trace = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  auto* cmd =
      routes->add_subcommand("report", "Balance, affinity, locality and cache figures of a trace (JSON + HTML)");
  cmd->add_option("trace", *trace, "Trace file (from --trace)")->required();
  cmd->add_option("-o,--out", *dir, "Output directory")->required();
  cmd->callback([trace, dir] { run_report(*trace, *dir); });
}

}  // namespace

SY_COMMAND(routes, register_routes);

Result<json> routing_report(const moe::trace::Trace& t, const std::string& source) {
  const std::vector<an::LayerStream> streams = an::layer_streams(t);
  std::set<uint32_t> sequences;
  for (const auto& r : t.records) sequences.insert(r.seq);
  // Only the layers with records are reported: a layer nobody routed through has no figures to draw.
  std::vector<int32_t> without_records;
  uint64_t n_reported = 0, max_expert = 0;
  for (const an::LayerStream& s : streams) {
    if (s.tokens.empty()) {
      without_records.push_back(s.layer);
      continue;
    }
    ++n_reported;
    max_expert = std::max<uint64_t>(max_expert, static_cast<uint64_t>(s.n_expert));
  }
  if (n_reported * max_expert > kMaxLayerExpertCells)
    return fail(ErrorCode::kInvalidInput,
                "{}: {} MoE layers with records of up to {} experts: the report draws at most {} layer × expert cells",
                source, n_reported, max_expert, kMaxLayerExpertCells);
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
  std::vector<an::SrpCounts> model_srp(std::size(kSegmentLengths));
  an::Recall model_recall;
  uint64_t matrix_cells = 0;
  for (size_t i = 0; i < streams.size(); ++i) {
    const an::LayerStream& s = streams[i];
    if (s.tokens.empty()) continue;
    const auto load = an::expert_load(s);
    const an::Balance b = an::balance(load);
    uint64_t chosen = 0;
    for (uint64_t v : load) chosen += v;
    json l{{"layer", s.layer},
           {"n_expert", s.n_expert},
           {"k", s.k},
           {"tokens", s.tokens.size()},
           {"mean_experts_per_token",
            s.tokens.empty() ? 0.0 : static_cast<double>(chosen) / static_cast<double>(s.tokens.size())},
           {"load", load},
           {"balance", {{"max_over_mean", b.max_over_mean}, {"cv", b.cv}, {"norm_entropy", b.norm_entropy}}}};
    const auto e = static_cast<uint64_t>(s.n_expert);
    const bool has_next = i + 1 < streams.size() && !streams[i + 1].tokens.empty();
    const uint64_t cells = e * e + (has_next ? e * static_cast<uint64_t>(streams[i + 1].n_expert) : 0);
    if (matrix_cells + cells > kMaxMatrixCells) {
      l["matrices_omitted"] = fmt::format(
          "co-activation and affinity left out: with this layer's {} cells the report's expert × expert matrices "
          "would pass {} cells",
          cells, kMaxMatrixCells);
    } else {
      matrix_cells += cells;
      l["co_activation"] = matrix(an::co_activation(s), s.n_expert, s.n_expert);
      if (has_next) {
        const an::Affinity a = an::affinity(s, streams[i + 1]);
        l["affinity_to_next"] = {{"next_layer", streams[i + 1].layer},
                                 {"prob", matrix(a.prob, a.n_from, a.n_to)},
                                 {"top_k_mass", a.top_k_mass}};
      }
    }
    json srp = json::array();
    for (size_t j = 0; j < std::size(kSegmentLengths); ++j) {
      const an::SrpCounts c = an::srp_counts(s, kSegmentLengths[j]);
      if (c.actual == 0) continue;
      an::accumulate(model_srp[j], c);
      const an::Srp best = an::best_srp(c);
      srp.push_back({{"m", kSegmentLengths[j]}, {"srp", best.f1}, {"tau", best.tau}, {"ratio", best.ratio}});
    }
    l["srp"] = srp;
    l["cache"] = cache_curves(s);
    const an::Recall r = an::prediction_recall(s);
    if (r.chosen > 0) l["prediction_recall"] = r.value();
    model_recall.hits += r.hits;
    model_recall.chosen += r.chosen;
    layers.push_back(std::move(l));
  }
  report["layers"] = layers;
  json srp = json::array();
  for (size_t j = 0; j < model_srp.size(); ++j) {
    if (model_srp[j].actual == 0) continue;
    const an::Srp best = an::best_srp(model_srp[j]);
    srp.push_back({{"m", kSegmentLengths[j]}, {"srp", best.f1}, {"tau", best.tau}, {"ratio", best.ratio}});
  }
  report["model"] = {{"srp", srp}};
  if (model_recall.chosen > 0) report["model"]["prediction_recall"] = model_recall.value();
  return report;
}

}  // namespace sy::cli
