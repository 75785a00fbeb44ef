// The routing report: every analysis figure of a trace as one JSON document (report.json), and the same
// document rendered as a self-contained HTML page with inline SVG plots (report.html).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "moe/trace/trace_reader.h"

namespace sy::cli {

nlohmann::json routing_report(const moe::trace::Trace& trace, const std::string& source);
std::string report_html(const nlohmann::json& report);

}  // namespace sy::cli
