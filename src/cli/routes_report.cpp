// `switchyard routes report TRACE -o DIR`: writes DIR/report.json and DIR/report.html (docs/routing.md).
// The figures come from moe/analysis/report.h; this file parses options, renders and writes.
#include "cli/routes_report.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <memory>

#include "cli/commands.h"
#include "cli/validators.h"
#include "core/error.h"
#include "core/file_io.h"
#include "moe/analysis/report.h"

namespace sy::cli {
namespace {

using nlohmann::json;

void write_text_files(const std::string& dir, std::span<const std::pair<std::string, std::string>> files) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Exception(Error{ErrorCode::kIo, fmt::format("cannot create {}: {}", dir, ec.message())});
  for (const auto& [name, text] : files) {
    const auto path = std::filesystem::path(dir) / name;
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out.flush()) throw Exception(Error{ErrorCode::kIo, fmt::format("writing {} failed", path.string())});
  }
}

moe::trace::Trace read_nonempty_trace(const std::string& path) {
  moe::trace::Trace t = value_or_throw(moe::trace::read_trace(path));
  if (t.records.empty())
    throw Exception(Error{ErrorCode::kInvalidInput, fmt::format("{}: the trace has no records", path)});
  return t;
}

void run_report(const std::string& trace_path, const std::string& dir, const std::vector<int32_t>& lookaheads) {
  const std::filesystem::path inputs[] = {trace_path};
  for (const char* name : {"report.json", "report.html"})
    value_or_throw(check_output_path(std::filesystem::path(dir) / name, inputs, "routes report -o"));
  const moe::trace::Trace t = read_nonempty_trace(trace_path);
  moe::analysis::ReportOptions options;
  if (!lookaheads.empty()) options.sch_lookaheads = lookaheads;
  const json report = value_or_throw(moe::analysis::routing_report(t, trace_path, options));
  // File names and the policy text come from outside and need not be UTF-8: bytes that are not become U+FFFD.
  const std::pair<std::string, std::string> files[] = {
      {"report.json", report.dump(1, ' ', false, json::error_handler_t::replace)},
      {"report.html", report_html(report)}};
  write_text_files(dir, files);
  fmt::print("wrote {}/report.json and {}/report.html ({} records, {} MoE layers)\n", dir, dir, t.records.size(),
             t.header.layers.size());
}

void run_diff(const std::string& a_path, const std::string& b_path, const std::string& dir) {
  const std::filesystem::path inputs[] = {a_path, b_path};
  for (const char* name : {"diff.json", "diff.html"})
    value_or_throw(check_output_path(std::filesystem::path(dir) / name, inputs, "routes diff -o"));
  const moe::trace::Trace a = read_nonempty_trace(a_path);
  const moe::trace::Trace b = read_nonempty_trace(b_path);
  const json diff = value_or_throw(moe::analysis::routing_diff(a, a_path, b, b_path));
  const std::pair<std::string, std::string> files[] = {
      {"diff.json", diff.dump(1, ' ', false, json::error_handler_t::replace)}, {"diff.html", diff_html(diff)}};
  write_text_files(dir, files);
  fmt::print("wrote {}/diff.json and {}/diff.html ({} MoE layers)\n", dir, dir, diff["layers"].size());
}

void register_routes(CLI::App& app) {
  auto* routes = app.add_subcommand("routes", "Analyse routing traces");
  routes->require_subcommand(1);
  {
    auto trace = std::make_shared<std::string>();
    auto dir = std::make_shared<std::string>();
    auto lookaheads = std::make_shared<std::vector<int32_t>>();
    auto* cmd =
        routes->add_subcommand("report", "Balance, affinity, locality and cache figures of a trace (JSON + HTML)");
    cmd->add_option("trace", *trace, "Trace file (from --trace)")->required();
    cmd->add_option("-o,--out", *dir, "Output directory")->required();
    cmd->add_option("--sch-lookahead", *lookaheads, "SCH look-ahead windows L, comma-separated (default 4,16,64,256)")
        ->delimiter(',')
        ->check(in_range<int32_t>(1, 1 << 20));
    cmd->callback([trace, dir, lookaheads] { run_report(*trace, *dir, *lookaheads); });
  }
  {
    auto a = std::make_shared<std::string>();
    auto b = std::make_shared<std::string>();
    auto dir = std::make_shared<std::string>();
    auto* cmd = routes->add_subcommand("diff", "Two traces of the same model side by side (JSON + HTML)");
    cmd->add_option("a", *a, "First trace")->required();
    cmd->add_option("b", *b, "Second trace")->required();
    cmd->add_option("-o,--out", *dir, "Output directory")->required();
    cmd->callback([a, b, dir] { run_diff(*a, *b, *dir); });
  }
  register_routes_prune(*routes);
}

}  // namespace

SY_COMMAND(routes, register_routes);

}  // namespace sy::cli
