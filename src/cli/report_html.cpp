// report.html and diff.html: the JSON documents of moe/analysis rendered as self-contained pages — inline SVG,
// no scripts, no network — so a page and its numbers cannot disagree. Every chart has axis ticks, every heat
// map a colour scale and expert ticks; the SVGs scale to the page width (viewBox, width 100%).
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

// Sequential scale (viridis stops) for t in [0, 1].
std::string colour(double t) {
  static constexpr double kStops[][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 4.0;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  auto mix = [&](int c) { return static_cast<int>(kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c])); };
  return fmt::format("#{:02x}{:02x}{:02x}", mix(0), mix(1), mix(2));
}

// Diverging scale (blue – white – red) for t in [-1, 1].
std::string diverging(double t) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, -1.0, 1.0);
  const double a = std::abs(t);
  const int base[3] = {255, 255, 255};
  const int end[3] = {t < 0 ? 33 : 178, t < 0 ? 102 : 24, t < 0 ? 172 : 43};
  auto mix = [&](int c) { return static_cast<int>(base[c] + a * (end[c] - base[c])); };
  return fmt::format("#{:02x}{:02x}{:02x}", mix(0), mix(1), mix(2));
}

constexpr const char* kSeriesColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                          "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
constexpr const char* kDashes[] = {"", "6 3", "2 2", "8 3 2 3", "", "4 4", "1 3", "10 4"};

// A distinct marker per series: circle, square, triangle, diamond, inverted triangle, cross, plus, star.
std::string marker(size_t i, double x, double y, const char* col, const std::string& title) {
  const double r = 3.2;
  std::string shape;
  switch (i % 8) {
    case 0: shape = fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="{}" fill="{}")", x, y, r, col); break;
    case 1:
      shape = fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{}" height="{}" fill="{}")", x - r, y - r, 2 * r, 2 * r,
                          col);
      break;
    case 2:
      shape = fmt::format(R"(<polygon points="{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}" fill="{}")", x, y - r - 1,
                          x - r - 0.5, y + r, x + r + 0.5, y + r, col);
      break;
    case 3:
      shape = fmt::format(R"(<polygon points="{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}" fill="{}")", x,
                          y - r - 1, x + r + 1, y, x, y + r + 1, x - r - 1, y, col);
      break;
    case 4:
      shape = fmt::format(R"(<polygon points="{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}" fill="{}")", x, y + r + 1,
                          x - r - 0.5, y - r, x + r + 0.5, y - r, col);
      break;
    case 5:
      shape = fmt::format(
          R"(<path d="M{:.1f},{:.1f}L{:.1f},{:.1f}M{:.1f},{:.1f}L{:.1f},{:.1f}" stroke="{}" stroke-width="2")", x - r,
          y - r, x + r, y + r, x - r, y + r, x + r, y - r, col);
      break;
    case 6:
      shape = fmt::format(
          R"(<path d="M{:.1f},{:.1f}L{:.1f},{:.1f}M{:.1f},{:.1f}L{:.1f},{:.1f}" stroke="{}" stroke-width="2")",
          x - r - 1, y, x + r + 1, y, x, y - r - 1, x, y + r + 1, col);
      break;
    default:
      shape = fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="{}" fill="white" stroke="{}" stroke-width="1.6")", x, y,
                          r, col);
  }
  return shape + "><title>" + escape(title) + "</title>" +
         (shape.starts_with("<circle") ? "</circle>"
          : shape.starts_with("<rect") ? "</rect>"
          : shape.starts_with("<path") ? "</path>"
                                       : "</polygon>");
}

// Charts fill their card (width 100%); heat maps keep their natural size, at most the card's width, so a small
// matrix does not blow up its labels.
std::string svg_open(double w, double h, bool fill_width = true) {
  return fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0:.0f} {1:.0f}" {2} preserveAspectRatio="xMinYMin meet" font-size="11" font-family="system-ui,sans-serif">)",
      w, h, fill_width ? std::string(R"(width="100%")") : fmt::format(R"(width="{:.0f}" style="max-width:100%")", w));
}

// Tick labels: every value for ≤ 16, else a step that keeps about 16.
size_t tick_step(size_t n) { return n <= 16 ? 1 : (n + 15) / 16; }

std::string number(double v) {
  if (v == 0) return "0";
  if (std::abs(v) >= 1000) return fmt::format("{:.0f}", v);
  return fmt::format("{:.3g}", v);
}

// A vertical colour bar from lo to hi at (x, y) of height h, with three ticks.
std::string colour_bar(double x, double y, double h, double lo, double hi, bool div, const std::string& label) {
  std::string s;
  const int steps = 40;
  for (int i = 0; i < steps; ++i) {
    const double t = 1.0 - (i + 0.5) / steps;  // top = hi
    const double v = lo + t * (hi - lo);
    const std::string fill = div ? diverging(hi > 0 ? v / hi : 0) : colour(hi > lo ? (v - lo) / (hi - lo) : 0);
    s += fmt::format(R"(<rect x="{:.1f}" y="{:.2f}" width="12" height="{:.2f}" fill="{}"/>)", x, y + h * i / steps,
                     h / steps + 0.3, fill);
  }
  s += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="12" height="{:.1f}" fill="none" stroke="#888"/>)", x, y, h);
  for (int i = 0; i <= 2; ++i) {
    const double v = hi - (hi - lo) * i / 2.0;
    const double yy = y + h * i / 2.0;
    s +=
        fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#444"/>)", x + 12, yy, x + 16, yy);
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}">{}</text>)", x + 18, yy + 4, number(v));
  }
  s += fmt::format(
      R"~(<text x="{0:.1f}" y="{1:.1f}" transform="rotate(90 {0:.1f} {1:.1f})" text-anchor="middle">{2}</text>)~",
      x + 56, y + h / 2, escape(label));
  return s;
}

struct HeatOptions {
  std::string x_label{}, y_label{}, value_label{};
  std::vector<std::string> row_labels{};  // empty: 0 … rows−1
  bool diverging = false;                 // symmetric scale around 0 (for differences)
};

// rows × cols matrix as cells on one scale for the whole matrix (the colour bar says which).
std::string heatmap(const std::vector<std::vector<double>>& m, const HeatOptions& o) {
  if (m.empty() || m[0].empty()) return "<p>(no data)</p>";
  const size_t rows = m.size(), cols = m[0].size();
  const double cell = std::clamp(560.0 / static_cast<double>(std::max(cols, rows)), 3.0, 36.0);
  const double left = 70, top = 10, gw = cell * static_cast<double>(cols), gh = cell * static_cast<double>(rows);
  double lo = 0, hi = 0;
  for (const auto& r : m)
    for (double v : r)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  if (o.diverging) hi = std::max(std::abs(lo), std::abs(hi)), lo = -hi;
  std::string s = svg_open(left + gw + 100, top + gh + 44, false);
  for (size_t r = 0; r < rows; ++r) {
    const std::string name = r < o.row_labels.size() ? o.row_labels[r] : fmt::format("{}", r);
    if (r % tick_step(rows) == 0)
      s += fmt::format(R"(<text x="{}" y="{:.1f}" text-anchor="end">{}</text>)", left - 5,
                       top + cell * (static_cast<double>(r) + 0.5) + 4, escape(name));
    for (size_t c = 0; c < cols; ++c) {
      const double v = c < m[r].size() ? m[r][c] : 0.0;
      const std::string fill =
          o.diverging ? diverging(hi > 0 ? v / hi : 0) : colour(hi > lo ? (v - lo) / (hi - lo) : 0);
      s += fmt::format(
          R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>{} {} · {} {}: {:.4g}</title></rect>)",
          left + cell * static_cast<double>(c), top + cell * static_cast<double>(r), cell, cell, fill,
          escape(o.y_label), escape(name), escape(o.x_label), c, v);
    }
  }
  for (size_t c = 0; c < cols; c += tick_step(cols)) {
    const double x = left + cell * (static_cast<double>(c) + 0.5);
    s += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#444"/>)", x, top + gh,
                     top + gh + 4);
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)", x, top + gh + 15, c);
  }
  s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)", left + gw / 2, top + gh + 34,
                   escape(o.x_label));
  s += fmt::format(R"~(<text x="12" y="{0:.1f}" transform="rotate(-90 12 {0:.1f})" text-anchor="middle">{1}</text>)~",
                   top + gh / 2, escape(o.y_label));
  s += colour_bar(left + gw + 14, top, std::max(gh, 60.0), lo, hi, o.diverging, o.value_label);
  return s + "</svg>";
}

// Nice y ticks from lo to hi (about 5).
std::vector<double> nice_ticks(double lo, double hi) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
  std::vector<double> t;
  const auto first = static_cast<int64_t>(std::ceil(lo / step));
  for (int64_t i = first; static_cast<double>(i) * step <= hi + step * 1e-9; ++i)
    t.push_back(static_cast<double>(i) * step);
  return t;
}

struct BarSeries {
  std::string name;
  std::vector<double> v;
};

// Bars (grouped when several series) over categories 0 … n−1 or `names`; y may go below 0.
std::string bars(const std::vector<BarSeries>& series, const std::string& x_label, const std::string& y_label,
                 const std::vector<std::string>& names = {}) {
  const double plot_w = 600, plot_h = 170, left = 62, top = 10;
  size_t n = 0;
  double lo = 0, hi = 0;
  for (const auto& sr : series) {
    n = std::max(n, sr.v.size());
    for (double v : sr.v) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!(hi > lo)) hi = lo + 1;
  const auto ticks = nice_ticks(lo, hi);
  lo = std::min(lo, ticks.front());
  hi = std::max(hi, ticks.back());
  auto py = [&](double v) { return top + (hi - v) / (hi - lo) * plot_h; };
  const double bw = plot_w / static_cast<double>(std::max<size_t>(1, n));
  std::string s = svg_open(left + plot_w + (series.size() > 1 ? 130 : 12), top + plot_h + 40);
  for (double t : ticks)
    s += fmt::format(
        R"(<line x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" stroke="#e3e3e3"/><line x1="{3}" y1="{1:.1f}" x2="{0}" y2="{1:.1f}" stroke="#444"/><text x="{4}" y="{5:.1f}" text-anchor="end">{6}</text>)",
        left, py(t), left + plot_w, left - 4, left - 6, py(t) + 4, number(t));
  s += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#444"/>)", left, top, top + plot_h);
  s += fmt::format(R"(<line x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" stroke="#444"/>)", left, py(0), left + plot_w);
  const double gw = 0.8 * bw / static_cast<double>(std::max<size_t>(1, series.size()));
  for (size_t k = 0; k < series.size(); ++k) {
    const char* col = series.size() == 1 ? "#3b528b" : kSeriesColours[k % std::size(kSeriesColours)];
    for (size_t i = 0; i < series[k].v.size(); ++i) {
      const double v = series[k].v[i];
      const std::string name = i < names.size() ? names[i] : fmt::format("{}", i);
      s += fmt::format(
          R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>{}{} {}: {:.4g}</title></rect>)",
          left + bw * static_cast<double>(i) + 0.1 * bw + gw * static_cast<double>(k), std::min(py(v), py(0)), gw,
          std::abs(py(v) - py(0)), col, series.size() > 1 ? escape(series[k].name) + " · " : "", escape(x_label),
          escape(name), v);
    }
    if (series.size() > 1)
      s += fmt::format(R"(<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{}</text>)",
                       left + plot_w + 12, top + 6 + 16 * static_cast<double>(k), col, left + plot_w + 26,
                       top + 15 + 16 * static_cast<double>(k), escape(series[k].name));
  }
  for (size_t i = 0; i < n; i += tick_step(n)) {
    const double x = left + bw * (static_cast<double>(i) + 0.5);
    s += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#444"/>)", x, top + plot_h,
                     top + plot_h + 4);
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)", x, top + plot_h + 15,
                     escape(i < names.size() ? names[i] : fmt::format("{}", i)));
  }
  s += fmt::format(R"(<text x="{:.0f}" y="{:.0f}" text-anchor="middle">{}</text>)", left + plot_w / 2,
                   top + plot_h + 34, escape(x_label));
  s += fmt::format(R"~(<text x="12" y="{0:.0f}" transform="rotate(-90 12 {0:.0f})" text-anchor="middle">{1}</text>)~",
                   top + plot_h / 2, escape(y_label));
  return s + "</svg>";
}

struct Series {
  std::string name;
  std::vector<double> x, y;
};

// Line chart with y in [0, 1]; x on a log2 axis when log_x. Each series has its own colour, dash and marker.
std::string lines(const std::vector<Series>& series, const std::string& x_label, const std::string& y_label,
                  bool log_x) {
  const double plot_w = 520, plot_h = 220, left = 50, top = 10;
  double xmin = INFINITY, xmax = -INFINITY;
  auto fx = [&](double x) { return log_x ? std::log2(x) : x; };
  for (const auto& s : series)
    for (double x : s.x) {
      xmin = std::min(xmin, fx(x));
      xmax = std::max(xmax, fx(x));
    }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1;
  if (!(xmax > xmin)) xmax = xmin + 1;
  auto px = [&](double x) { return left + (fx(x) - xmin) / (xmax - xmin) * plot_w; };
  auto py = [&](double y) { return top + (1.0 - std::clamp(y, 0.0, 1.0)) * plot_h; };
  std::string s = svg_open(left + plot_w + 150, top + plot_h + 42);
  for (double g : {0.0, 0.2, 0.4, 0.6, 0.8, 1.0})
    s += fmt::format(
        R"(<line x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" stroke="#e3e3e3"/><line x1="{3}" y1="{1:.1f}" x2="{0}" y2="{1:.1f}" stroke="#444"/><text x="{4}" y="{5:.1f}" text-anchor="end">{6}</text>)",
        left, py(g), left + plot_w, left - 4, left - 6, py(g) + 4, g);
  s += fmt::format(
      R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#444"/><line x1="{0}" y1="{2}" x2="{3}" y2="{2}" stroke="#444"/>)",
      left, top, top + plot_h, left + plot_w);
  // x ticks: powers of two on a log axis, else about 12 integers.
  std::vector<double> xt;
  if (log_x) {
    for (auto e = static_cast<int64_t>(std::ceil(xmin)); static_cast<double>(e) <= xmax + 1e-9; ++e)
      xt.push_back(std::exp2(static_cast<double>(e)));
  } else {
    const auto step = static_cast<int64_t>(std::max(1.0, std::ceil((xmax - xmin) / 12)));
    for (auto v = static_cast<int64_t>(std::ceil(xmin)); static_cast<double>(v) <= xmax + 1e-9; v += step)
      xt.push_back(static_cast<double>(v));
  }
  for (double v : xt) {
    s += fmt::format(R"(<line x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="#444"/>)", px(v), top + plot_h,
                     top + plot_h + 4);
    s += fmt::format(R"(<text x="{:.1f}" y="{}" text-anchor="middle">{}</text>)", px(v), top + plot_h + 15, number(v));
  }
  s += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">{}</text>)", left + plot_w / 2, top + plot_h + 34,
                   escape(x_label));
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& sr = series[i];
    const char* col = kSeriesColours[i % std::size(kSeriesColours)];
    const char* dash = kDashes[i % std::size(kDashes)];
    std::string pts;
    for (size_t j = 0; j < sr.x.size() && j < sr.y.size(); ++j)
      pts += fmt::format("{:.1f},{:.1f} ", px(sr.x[j]), py(sr.y[j]));
    s += fmt::format(
        R"(<polyline fill="none" stroke="{}" stroke-width="1.6" stroke-dasharray="{}" points="{}"><title>{}</title></polyline>)",
        col, dash, pts, escape(sr.name));
    const size_t every = sr.x.size() > 40 ? (sr.x.size() + 39) / 40 : 1;  // markers stay readable on long series
    for (size_t j = 0; j < sr.x.size() && j < sr.y.size(); j += every)
      s += marker(i, px(sr.x[j]), py(sr.y[j]), col,
                  fmt::format("{} · {} {}: {:.4f}", sr.name, x_label, sr.x[j], sr.y[j]));
    const double ly = top + 12 + 16 * static_cast<double>(i);
    s += fmt::format(
        R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="{}" stroke-width="1.6" stroke-dasharray="{}"/>)",
        left + plot_w + 10, ly, left + plot_w + 34, ly, col, dash);
    s += marker(i, left + plot_w + 22, ly, col, sr.name);
    s += fmt::format(R"(<text x="{}" y="{:.1f}">{}</text>)", left + plot_w + 40, ly + 4, escape(sr.name));
  }
  s += fmt::format(R"~(<text x="12" y="{0:.0f}" transform="rotate(-90 12 {0:.0f})" text-anchor="middle">{1}</text>)~",
                   top + plot_h / 2, escape(y_label));
  return s + "</svg>";
}

std::vector<std::vector<double>> to_matrix(const json& j) {
  std::vector<std::vector<double>> m;
  for (const auto& row : j) m.push_back(row.get<std::vector<double>>());
  return m;
}

std::string fmt_num(const json& j, const char* spec = "{:.3f}") {
  return j.is_number() ? fmt::format(fmt::runtime(spec), j.get<double>()) : "–";
}

// The SCH value at `capacity` for look-ahead L (the key), or null.
json sch_at(const json& sch, int capacity, const std::string& lookahead) {
  if (!sch.contains("L") || !sch["L"].contains(lookahead)) return json();
  const auto& v = sch["L"][lookahead];
  return capacity >= 1 && static_cast<size_t>(capacity) <= v.size() ? v[static_cast<size_t>(capacity - 1)] : json();
}

std::vector<Series> sch_series(const json& sch) {
  std::vector<Series> out;
  const auto caps = sch["capacity"].get<std::vector<double>>();
  for (const auto& [L, v] : sch["L"].items()) out.push_back({"SCH L=" + L, caps, v.get<std::vector<double>>()});
  std::sort(out.begin(), out.end(),
            [](const Series& a, const Series& b) { return std::stoi(a.name.substr(6)) < std::stoi(b.name.substr(6)); });
  return out;
}

constexpr const char* kStyle = R"(<style>
body{font-family:system-ui,sans-serif;margin:20px 28px;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}h2{margin-top:32px;border-bottom:1px solid #ddd}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
.wide{width:100%}.card{border:1px solid #e4e4e4;padding:8px;border-radius:4px;min-width:0}
.card h4{margin:2px 0 6px}.note{color:#555;font-size:13px;max-width:110ch}
</style>)";

}  // namespace

std::string report_html(const json& r) {
  const json& layers = r["layers"];
  std::string h =
      std::string(R"(<!doctype html><html><head><meta charset="utf-8"><title>switchyard routing report</title>)") +
      kStyle + "</head><body>";
  const json& t = r["trace"];
  h += fmt::format(
      "<h1>Routing report</h1><p class=note>Trace <code>{}</code>: {} records, {} sequences, {} MoE layers. Policy: "
      "<code>{}</code>{}</p>",
      escape(t["file"].get<std::string>()), t["records"].get<uint64_t>(), t["sequences"].get<uint64_t>(), layers.size(),
      escape(t["policy"].get<std::string>()),
      t["truncated_bytes"].get<uint64_t>() > 0 ? " (the file ends with a partial record, ignored)" : "");

  // The SCH look-ahead shown in the summary: 16 when reported, else the first.
  std::string sch_l;
  if (!layers.empty())
    for (const auto& [L, v] : layers[0]["sch"]["L"].items())
      if (sch_l.empty() || L == "16") sch_l = L;

  h += "<h2>Summary per layer</h2><table><tr><th>layer</th><th>experts</th><th>k</th><th>tokens</th>"
       "<th>experts/token</th><th>max/mean load</th><th>CV</th><th>norm. entropy</th><th>affinity top-k mass</th>"
       "<th>SRP m=8</th><th>stream LRU @2k</th><th>stream Belady @2k</th><th>SCH L=" +
       escape(sch_l) + " @2k</th><th>next-layer recall</th></tr>";
  for (const json& l : layers) {
    const int k2 = 2 * l["k"].get<int>();
    const auto caps = l["cache_stream"]["capacity"].get<std::vector<int>>();
    const auto at = std::find(caps.begin(), caps.end(), k2);
    auto at2k = [&](const json& v) { return at == caps.end() ? json() : v[static_cast<size_t>(at - caps.begin())]; };
    json srp8;
    for (const json& s : l["srp"])
      if (s["m"] == 8) srp8 = s["srp"];
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        l["layer"].get<int>(), l["n_expert"].get<int>(), l["k"].get<int>(), l["tokens"].get<uint64_t>(),
        l["mean_experts_per_token"].get<double>(), fmt_num(l["balance"]["max_over_mean"]), fmt_num(l["balance"]["cv"]),
        fmt_num(l["balance"]["norm_entropy"]),
        l.contains("affinity_to_next") ? fmt_num(l["affinity_to_next"]["top_k_mass"]) : "–", fmt_num(srp8),
        fmt_num(at2k(l["cache_stream"]["lru"])), fmt_num(at2k(l["cache_stream"]["belady"])),
        fmt_num(sch_at(l["sch"], k2, sch_l)), l.contains("prediction_recall") ? fmt_num(l["prediction_recall"]) : "–");
  }
  h += "</table><p class=note>Balance: max/mean 1, CV 0 and entropy 1 are perfectly even. Affinity top-k mass: the "
       "share of a token's next-layer experts that fall in the k most frequent successors of its experts here. SRP: "
       "how well one fixed expert set per segment of m tokens covers the per-token choices (F1). Stream columns: a "
       "cache of 2k experts per layer running across all sequences from empty; switchyard's expert cache is one such "
       "stream over one pool for all layers (the pool chart below is the one to compare it with). SCH: the paper's "
       "segment cache hit rate (fresh per sequence, warm "
       "start, look-ahead L including the current token, mean over sequences).</p>";

  // Layer × expert load share.
  std::vector<std::vector<double>> load;
  std::vector<std::string> names;
  for (const json& l : layers) {
    auto v = l["load"].get<std::vector<double>>();
    double total = 0;
    for (double x : v) total += x;
    for (double& x : v) x = total > 0 ? x / total : 0;
    v.resize(layers[0]["load"].size(), 0.0);
    load.push_back(std::move(v));
    names.push_back(fmt::format("{}", l["layer"].get<int>()));
  }
  h +=
      "<h2>Expert load: layer × expert</h2><p class=note>Share of each layer's chosen slots (rows sum to 1; uniform "
      "is 1/E).</p><div class=wide>" +
      heatmap(
          load,
          {.x_label = "expert", .y_label = "layer", .value_label = "share of the layer's slots", .row_labels = names}) +
      "</div>";

  // Locality and caching, model level.
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
  h += "<h2>Local routing consistency</h2><div class=grid><div class=card><h4>SRP (segment routing best "
       "performance)</h4>" +
       lines(srp, "segment length m", "SRP (best F1)", true) + "</div>";
  if (r["model"].contains("sch"))
    h += fmt::format(
             "<div class=card><h4>Model-level SCH (all {} MoE layers' experts in one cache; {} active per "
             "token)</h4>",
             layers.size(), r["model"]["sch"]["active_experts"].get<int>()) +
         lines(sch_series(r["model"]["sch"]), "capacity (experts, all layers)", "hit rate", false) + "</div>";
  if (r["model"].contains("cache_pool")) {
    const json& p = r["model"]["cache_pool"];
    const auto caps = p["capacity"].get<std::vector<double>>();
    h += fmt::format(
             "<div class=card><h4>One pool for all layers, continuous stream: switchyard's expert cache "
             "({} experts active per token) — compare its measured hit rate with this</h4>",
             p["active_experts"].get<int>()) +
         lines({{"pool lru", caps, p["lru"].get<std::vector<double>>()},
                {"pool lfu", caps, p["lfu"].get<std::vector<double>>()}},
               "capacity (experts, all layers)", "hit rate", false) +
         "</div>";
  }
  h += "</div>";

  if (r["model"].contains("prediction_recall")) {
    std::vector<double> rec;
    std::vector<std::string> labels;
    for (const json& l : layers)
      if (l.contains("prediction_recall")) {
        rec.push_back(l["prediction_recall"].get<double>());
        labels.push_back(fmt::format("{}", l["layer"].get<int>()));
      }
    h += fmt::format(
             "<h2>Next-layer prediction</h2><p class=note>Recall at k of each layer's experts predicted by its own "
             "router applied to the previous MoE layer's router input; model {:.3f}.</p>",
             r["model"]["prediction_recall"].get<double>()) +
         "<div class=card>" + bars({{"recall", rec}}, "predicted layer", "recall", labels) + "</div>";
  }

  h += "<h2>Per layer</h2>";
  for (const json& l : layers) {
    const int layer = l["layer"].get<int>();
    h += fmt::format("<h3>Layer {}</h3><div class=grid>", layer);
    h += "<div class=card><h4>Expert load</h4>" +
         bars({{"tokens", l["load"].get<std::vector<double>>()}}, "expert", "tokens choosing it") + "</div>";
    if (l.contains("experts_per_token")) {
      const auto hist = l["experts_per_token"].get<std::vector<double>>();
      size_t used = 0;
      for (double v : hist) used += v > 0 ? 1 : 0;
      if (used > 1)  // a dynamic policy: the count varies
        h += "<div class=card><h4>Experts per token (dynamic policy)</h4>" +
             bars({{"tokens", hist}}, "experts chosen", "tokens") + "</div>";
    }
    std::vector<Series> stream;
    const auto caps = l["cache_stream"]["capacity"].get<std::vector<double>>();
    for (const char* name : {"lru", "lfu", "belady"})
      stream.push_back({std::string("stream ") + name, caps, l["cache_stream"][name].get<std::vector<double>>()});
    h += "<div class=card><h4>Continuous-stream cache hit rate, one cache for this layer</h4>" +
         lines(stream, "capacity (experts kept)", "hit rate", false) + "</div>";
    h += "<div class=card><h4>SCH, the paper's rule (per sequence, warm start)</h4>" +
         lines(sch_series(l["sch"]), "capacity (experts kept)", "hit rate", false) + "</div>";
    if (l.contains("co_activation")) {
      h += "<div class=card><h4>Co-activation (tokens choosing both)</h4>" +
           heatmap(to_matrix(l["co_activation"]),
                   {.x_label = "expert j", .y_label = "expert i", .value_label = "tokens"}) +
           "</div>";
    } else if (l.contains("matrices_omitted")) {
      h += "<div class=card><h4>Co-activation and affinity</h4><p class=note>" +
           escape(l["matrices_omitted"].get<std::string>()) + "</p></div>";
    }
    if (l.contains("affinity_to_next")) {
      const json& a = l["affinity_to_next"];
      h += fmt::format(
               "<div class=card><h4>Next layer ({}): share of expert i's successors that are j (rows sum to "
               "1); top-k mass {:.3f}</h4>",
               a["next_layer"].get<int>(), a["top_k_mass"].get<double>()) +
           heatmap(to_matrix(a["prob"]), {.x_label = fmt::format("expert j at layer {}", a["next_layer"].get<int>()),
                                          .y_label = "expert i here",
                                          .value_label = "P(j | i)"}) +
           "</div>";
    }
    h += "</div>";
  }
  h += "</body></html>\n";
  return h;
}

std::string diff_html(const json& d) {
  const json& layers = d["layers"];
  std::string h =
      std::string(R"(<!doctype html><html><head><meta charset="utf-8"><title>switchyard routing diff</title>)") +
      kStyle + "</head><body>";
  h += fmt::format(
      "<h1>Routing diff</h1><p class=note>A: <code>{}</code> ({} records, policy <code>{}</code>)<br>B: "
      "<code>{}</code> "
      "({} records, policy <code>{}</code>)<br>Mean Jensen–Shannon divergence of the expert load over layers: "
      "{:.4f} (base 2: 0 = the same load, 1 = disjoint experts).</p>",
      escape(d["a"]["file"].get<std::string>()), d["a"]["records"].get<uint64_t>(),
      escape(d["a"]["policy"].get<std::string>()), escape(d["b"]["file"].get<std::string>()),
      d["b"]["records"].get<uint64_t>(), escape(d["b"]["policy"].get<std::string>()),
      d["mean_js_divergence"].get<double>());
  h += "<h2>Per layer</h2><table><tr><th>layer</th><th>experts</th><th>tokens A</th><th>tokens B</th>"
       "<th>JS divergence</th><th>total variation</th><th>busiest k overlap</th><th>busiest A</th><th>busiest "
       "B</th></tr>";
  std::vector<std::vector<double>> shift;
  std::vector<std::string> names;
  std::vector<double> js, overlap;
  for (const json& l : layers) {
    auto join = [](const json& v) {
      std::string s;
      for (const auto& e : v) s += (s.empty() ? "" : " ") + std::to_string(e.get<int>());
      return s;
    };
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4f}</td><td>{:.4f}</td><td>{:.2f}</td><td>{}</td>"
        "<td>{}</td></tr>",
        l["layer"].get<int>(), l["n_expert"].get<int>(), l["tokens"][0].get<uint64_t>(), l["tokens"][1].get<uint64_t>(),
        l["js_divergence"].get<double>(), l["total_variation"].get<double>(), l["busiest_overlap"].get<double>(),
        join(l["busiest"][0]), join(l["busiest"][1]));
    shift.push_back(l["shift"].get<std::vector<double>>());
    shift.back().resize(layers[0]["shift"].size(), 0.0);
    names.push_back(fmt::format("{}", l["layer"].get<int>()));
    js.push_back(l["js_divergence"].get<double>());
    overlap.push_back(l["busiest_overlap"].get<double>());
  }
  h += "</table><p class=note>Total variation: half the summed absolute difference of the load shares (the share of "
       "slots that would have to move). Busiest k overlap: of each trace's k most used experts (k = the layer's "
       "native k), the fraction both share.</p>";
  h += "<h2>Load shift: layer × expert (share in B − share in A)</h2><div class=wide>" +
       heatmap(shift, {.x_label = "expert",
                       .y_label = "layer",
                       .value_label = "share B − share A",
                       .row_labels = names,
                       .diverging = true}) +
       "</div>";
  h += "<div class=grid><div class=card><h4>Jensen–Shannon divergence per layer</h4>" +
       bars({{"JS", js}}, "layer", "JS divergence (base 2)", names) +
       "</div><div class=card><h4>Overlap of the busiest k experts</h4>" +
       bars({{"overlap", overlap}}, "layer", "overlap", names) + "</div></div>";
  h += "<h2>Load per layer, side by side</h2><div class=grid>";
  for (const json& l : layers)
    h += fmt::format("<div class=card><h4>Layer {}</h4>", l["layer"].get<int>()) +
         bars({{"A", l["share"][0].get<std::vector<double>>()}, {"B", l["share"][1].get<std::vector<double>>()}},
              "expert", "share of the layer's slots") +
         "<p class=note></p>" + bars({{"B − A", l["shift"].get<std::vector<double>>()}}, "expert", "shift of share") +
         "</div>";
  h += "</div></body></html>\n";
  return h;
}

}  // namespace sy::cli
