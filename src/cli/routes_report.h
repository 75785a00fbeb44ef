// The routing report and diff pages: the JSON documents of moe/analysis rendered as self-contained HTML pages
// with inline SVG plots (report.html, diff.html).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace sy::cli {

std::string report_html(const nlohmann::json& report);
std::string diff_html(const nlohmann::json& diff);
// `routes prune` (routes_prune.cpp), registered under `routes`.
void register_routes_prune(CLI::App& routes);

}  // namespace sy::cli
