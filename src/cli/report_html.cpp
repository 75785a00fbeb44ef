// report.html: the routing report rendered as one self-contained page — inline SVG, no scripts, no network —
// from the same JSON document as report.json, so the page and the numbers cannot disagree.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cli/routes_report.h"

namespace sy::cli {
namespace {

using nlohmann::json;

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A sequential colour scale (dark blue → teal → yellow) for t in [0, 1].
std::string colour(double t) {
  static constexpr double kStops[][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 4.0;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  auto mix = [&](int c) { return static_cast<int>(kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c])); };
  return fmt::format("#{:02x}{:02x}{:02x}", mix(0), mix(1), mix(2));
}

const char* kSeriesColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

// rows × cols matrix as coloured cells; each row scaled to its own max when per_row, else to the global max.
std::string heatmap(const std::vector<std::vector<double>>& m, const std::vector<std::string>& row_labels,
                    const std::string& x_label, bool per_row) {
  if (m.empty() || m[0].empty()) return "<p>(no data)</p>";
  const size_t rows = m.size(), cols = m[0].size();
  const double cell = std::clamp(560.0 / static_cast<double>(cols), 2.0, 28.0);
  const double left = 64, top = 8, w = left + cell * static_cast<double>(cols) + 10,
               h = top + cell * static_cast<double>(rows) + 34;
  double global = 0;
  for (const auto& r : m)
    for (double v : r) global = std::max(global, v);
  std::string s =
      fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" font-size="10">)", w, h);
  for (size_t r = 0; r < rows; ++r) {
    const double max = per_row ? *std::max_element(m[r].begin(), m[r].end()) : global;
    s += fmt::format(R"(<text x="{}" y="{:.1f}" text-anchor="end">{}</text>)", left - 4,
                     top + cell * (static_cast<double>(r) + 0.5) + 3, escape(row_labels[r]));
    for (size_t c = 0; c < cols; ++c)
      s += fmt::format(
          R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>{} · {} {}: {:.4g}</title></rect>)",
          left + cell * static_cast<double>(c), top + cell * static_cast<double>(r), cell, cell,
          colour(max > 0 ? m[r][c] / max : 0), escape(row_labels[r]), x_label, c, m[r][c]);
  }
  s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{} 0–{}</text></svg>)",
                   left + cell * static_cast<double>(cols) / 2, top + cell * static_cast<double>(rows) + 20, x_label,
                   cols - 1);
  return s;
}

// Bars named by index (x_label i), or by `names` when given.
std::string bars(const std::vector<double>& v, const std::string& x_label, const std::string& y_label,
                 const std::vector<std::string>& names = {}) {
  const double W = 560, H = 140, left = 56, top = 8;
  const double max = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
  const double bw = W / static_cast<double>(std::max<size_t>(1, v.size()));
  std::string s =
      fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" font-size="10">)",
                  left + W + 10, top + H + 30);
  s += fmt::format(
      R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#444"/><line x1="{0}" y1="{2}" x2="{3}" y2="{2}" stroke="#444"/>)",
      left, top, top + H, left + W);
  // Counts print in full (a 6-digit count in exponent form was clipped by the margin); fractions keep 4 digits.
  const std::string max_label = max >= 1000 ? fmt::format("{:.0f}", max) : fmt::format("{:.4g}", max);
  s += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text>)",
                   left - 4, top + 8, max_label, left - 4, top + H);
  for (size_t i = 0; i < v.size(); ++i) {
    const double h = max > 0 ? v[i] / max * H : 0;
    const std::string name = i < names.size() ? names[i] : fmt::format("{}", i);
    s += fmt::format(
        R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="#3b528b"><title>{} {}: {:.4g} {}</title></rect>)",
        left + bw * static_cast<double>(i) + 0.1 * bw, top + H - h, 0.8 * bw, h, x_label, name, v[i], y_label);
    if (!names.empty())
      s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)",
                       left + bw * (static_cast<double>(i) + 0.5), top + H + 11, escape(name));
  }
  s += fmt::format(R"(<text x="{:.0f}" y="{:.0f}" text-anchor="middle">{} ({})</text></svg>)", left + W / 2,
                   top + H + 24, names.empty() ? fmt::format("{} 0–{}", x_label, v.size() - 1) : x_label, y_label);
  return s;
}

struct Series {
  std::string name;
  std::vector<double> x, y;
};

// Line chart with y in [0, 1]; x on a log2 axis when log_x.
std::string lines(const std::vector<Series>& series, const std::string& x_label, const std::string& y_label,
                  bool log_x) {
  const double W = 420, H = 200, left = 44, top = 10;
  double xmin = INFINITY, xmax = -INFINITY;
  auto fx = [&](double x) { return log_x ? std::log2(x) : x; };
  for (const auto& s : series)
    for (double x : s.x) {
      xmin = std::min(xmin, fx(x));
      xmax = std::max(xmax, fx(x));
    }
  if (!(xmax > xmin)) xmax = xmin + 1;
  auto px = [&](double x) { return left + (fx(x) - xmin) / (xmax - xmin) * W; };
  auto py = [&](double y) { return top + (1.0 - std::clamp(y, 0.0, 1.0)) * H; };
  std::string s =
      fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" font-size="10">)",
                  left + W + 130, top + H + 32);
  for (double g : {0.0, 0.25, 0.5, 0.75, 1.0})
    s += fmt::format(
        R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#ddd"/><text x="{}" y="{:.1f}" text-anchor="end">{}</text>)",
        left, py(g), left + W, py(g), left - 4, py(g) + 3, g);
  s += fmt::format(R"(<text x="{}" y="{}" text-anchor="start">{}</text>)", left + W / 2 - 40, top + H + 26,
                   escape(x_label));
  s += fmt::format(
      R"(<text x="{}" y="{}" text-anchor="end">{:.4g}</text><text x="{}" y="{}" text-anchor="start">{:.4g}</text>)",
      left + W, top + H + 13, log_x ? std::exp2(xmax) : xmax, left, top + H + 13, log_x ? std::exp2(xmin) : xmin);
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& sr = series[i];
    const char* col = kSeriesColours[i % std::size(kSeriesColours)];
    std::string pts;
    for (size_t j = 0; j < sr.x.size(); ++j) pts += fmt::format("{:.1f},{:.1f} ", px(sr.x[j]), py(sr.y[j]));
    s += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="1.6" points="{}"><title>{}</title></polyline>)",
                     col, pts, escape(sr.name));
    for (size_t j = 0; j < sr.x.size(); ++j)
      s += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2" fill="{}"><title>{} · {} {}: {:.4f}</title></circle>)",
                       px(sr.x[j]), py(sr.y[j]), col, escape(sr.name), escape(x_label), sr.x[j], sr.y[j]);
    s += fmt::format(R"(<rect x="{}" y="{}" width="10" height="3" fill="{}"/><text x="{}" y="{}">{}</text>)",
                     left + W + 10, top + 10 + 14 * static_cast<double>(i), col, left + W + 24,
                     top + 14 + 14 * static_cast<double>(i), escape(sr.name));
  }
  s +=
      fmt::format(R"~(<text x="12" y="{:.0f}" transform="rotate(-90 12 {:.0f})" text-anchor="middle">{}</text></svg>)~",
                  top + H / 2, top + H / 2, escape(y_label));
  return s;
}

std::vector<std::vector<double>> to_matrix(const json& j) {
  std::vector<std::vector<double>> m;
  for (const auto& row : j) m.push_back(row.get<std::vector<double>>());
  return m;
}

std::string fmt_num(const json& j, const char* spec = "{:.3f}") {
  return j.is_number() ? fmt::format(fmt::runtime(spec), j.get<double>()) : "–";
}

}  // namespace

std::string report_html(const json& r) {
  const json& layers = r["layers"];
  std::string h = R"(<!doctype html><html><head><meta charset="utf-8"><title>switchyard routing report</title><style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}h2{margin-top:32px;border-bottom:1px solid #ddd}.grid{display:flex;flex-wrap:wrap;gap:18px}
.card{border:1px solid #e4e4e4;padding:8px;border-radius:4px}.card h4{margin:2px 0 6px}.note{color:#555;font-size:13px}
</style></head><body>)";
  const json& t = r["trace"];
  h += fmt::format(
      "<h1>Routing report</h1><p class=note>Trace <code>{}</code>: {} records, {} sequences, {} MoE layers. Policy: "
      "<code>{}</code>{}</p>",
      escape(t["file"].get<std::string>()), t["records"].get<uint64_t>(), t["sequences"].get<uint64_t>(), layers.size(),
      escape(t["policy"].get<std::string>()),
      t["truncated_bytes"].get<uint64_t>() > 0 ? " (the file ends with a partial record, ignored)" : "");

  // Summary table.
  h += "<h2>Summary per "
       "layer</h2><table><tr><th>layer</th><th>experts</th><th>k</th><th>tokens</th><th>experts/token</th>"
       "<th>max/mean load</th><th>CV</th><th>norm. entropy</th><th>affinity top-k mass</th><th>SRP m=8</th>"
       "<th>LRU @2k</th><th>Belady @2k</th><th>SCH L=16 @2k</th><th>next-layer recall</th></tr>";
  for (const json& l : layers) {
    const int k2 = 2 * l["k"].get<int>();
    const auto caps = l["cache"]["capacity"].get<std::vector<int>>();
    const auto at = std::find(caps.begin(), caps.end(), k2);
    auto at2k = [&](const json& v) { return at == caps.end() ? json() : v[static_cast<size_t>(at - caps.begin())]; };
    json srp8;
    for (const json& s : l["srp"])
      if (s["m"] == 8) srp8 = s["srp"];
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</"
        "td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        l["layer"].get<int>(), l["n_expert"].get<int>(), l["k"].get<int>(), l["tokens"].get<uint64_t>(),
        l["mean_experts_per_token"].get<double>(), fmt_num(l["balance"]["max_over_mean"]), fmt_num(l["balance"]["cv"]),
        fmt_num(l["balance"]["norm_entropy"]),
        l.contains("affinity_to_next") ? fmt_num(l["affinity_to_next"]["top_k_mass"]) : "–", fmt_num(srp8),
        fmt_num(at2k(l["cache"]["lru"])), fmt_num(at2k(l["cache"]["belady"])), fmt_num(at2k(l["cache"]["sch"]["16"])),
        l.contains("prediction_recall") ? fmt_num(l["prediction_recall"]) : "–");
  }
  h += "</table><p class=note>Balance: max/mean 1 and CV 0 and entropy 1 are perfectly even. Affinity top-k mass: the "
       "share of a "
       "token's next-layer experts that fall in the k most frequent successors of its experts here. SRP: how well one "
       "fixed expert "
       "set per segment of m tokens covers the per-token choices (F1). Cache columns: hit rate with 2k experts kept "
       "per layer.</p>";

  // Layer × expert load heat map.
  std::vector<std::vector<double>> load;
  std::vector<std::string> names;
  for (const json& l : layers) {
    load.push_back(l["load"].get<std::vector<double>>());
    load.back().resize(load.front().size(), 0.0);
    names.push_back(fmt::format("layer {}", l["layer"].get<int>()));
  }
  h += "<h2>Expert load: layer × expert</h2><p class=note>Each row scaled to its own busiest expert.</p>" +
       heatmap(load, names, "expert", true);

  // Locality and caching.
  std::vector<Series> srp;
  for (const json& l : layers) {
    Series s{fmt::format("layer {}", l["layer"].get<int>()), {}, {}};
    for (const json& p : l["srp"]) {
      s.x.push_back(p["m"].get<double>());
      s.y.push_back(p["srp"].get<double>());
    }
    srp.push_back(std::move(s));
  }
  Series model{"model", {}, {}};
  for (const json& p : r["model"]["srp"]) {
    model.x.push_back(p["m"].get<double>());
    model.y.push_back(p["srp"].get<double>());
  }
  srp.push_back(std::move(model));
  h += "<h2>Local routing consistency (SRP)</h2>" + lines(srp, "segment length m", "SRP (best F1)", true);

  if (r["model"].contains("prediction_recall")) {
    std::vector<double> rec;
    std::vector<std::string> labels;
    for (const json& l : layers)
      if (l.contains("prediction_recall")) {
        rec.push_back(l["prediction_recall"].get<double>());
        labels.push_back(fmt::format("layer {}", l["layer"].get<int>()));
      }
    h += fmt::format(
             "<h2>Next-layer prediction</h2><p class=note>Recall at k of each layer's experts predicted by its own "
             "router "
             "applied to the previous MoE layer's router input; model {:.3f}.</p>",
             r["model"]["prediction_recall"].get<double>()) +
         bars(rec, "predicted layer", "recall", labels);
  }

  h += "<h2>Per layer</h2>";
  for (const json& l : layers) {
    const int layer = l["layer"].get<int>();
    h += fmt::format("<h3>Layer {}</h3><div class=grid>", layer);
    h += "<div class=card><h4>Expert load</h4>" + bars(l["load"].get<std::vector<double>>(), "expert", "tokens") +
         "</div>";
    std::vector<Series> cache;
    const auto caps = l["cache"]["capacity"].get<std::vector<double>>();
    for (const char* name : {"lru", "lfu", "belady"})
      cache.push_back({name, caps, l["cache"][name].get<std::vector<double>>()});
    for (const auto& [L, v] : l["cache"]["sch"].items())
      cache.push_back({"SCH L=" + L, caps, v.get<std::vector<double>>()});
    h += "<div class=card><h4>Cache hit rate vs experts kept</h4>" +
         lines(cache, "capacity (experts)", "hit rate", false) + "</div>";
    std::vector<std::string> expert_names;
    for (int e = 0; e < l["n_expert"].get<int>(); ++e) expert_names.push_back(fmt::format("{}", e));
    if (l.contains("co_activation")) {
      h += "<div class=card><h4>Co-activation (tokens choosing both)</h4>" +
           heatmap(to_matrix(l["co_activation"]), expert_names, "expert", false) + "</div>";
    } else if (l.contains("matrices_omitted")) {
      h += "<div class=card><h4>Co-activation and affinity</h4><p class=note>" +
           escape(l["matrices_omitted"].get<std::string>()) + "</p></div>";
    }
    if (l.contains("affinity_to_next")) {
      const json& a = l["affinity_to_next"];
      h += fmt::format("<div class=card><h4>P(expert j at layer {} | expert i here), top-k mass {:.3f}</h4>",
                       a["next_layer"].get<int>(), a["top_k_mass"].get<double>()) +
           heatmap(to_matrix(a["prob"]), expert_names, "next-layer expert", false) + "</div>";
    }
    h += "</div>";
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace sy::cli
