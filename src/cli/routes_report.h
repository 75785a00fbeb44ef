// The routing report: every analysis figure of a trace as one JSON document (report.json), and the same
// document rendered as a self-contained HTML page with inline SVG plots (report.html).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "moe/trace/trace_reader.h"

namespace sy::cli {

// Layers without records are left out (listed in trace.layers_without_records); expert × expert matrices are
// left out past a budget, saying so per layer ("matrices_omitted"). Fails when the header describes more
// layers × experts than a report can draw (a forged header).
Result<nlohmann::json> routing_report(const moe::trace::Trace& trace, const std::string& source);
std::string report_html(const nlohmann::json& report);

}  // namespace sy::cli
