// The routing report as one JSON document (report.json; cli/ renders the same document as report.html):
// per MoE layer load, balance, co-activation, affinity, SRP, SCH (the paper's rule, sch.h), continuous-stream
// cache simulations (locality.h), experts per token and next-layer recall; plus model-level SRP and SCH.
// And the diff of two traces (diff.json / diff.html).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "moe/trace/trace_reader.h"

namespace sy::moe::analysis {

struct ReportOptions {
  std::vector<int32_t> sch_lookaheads{4, 16, 64, 256};  // the paper's defaults; each ≥ 1
};

// Layers without records are left out (listed in trace.layers_without_records); expert × expert matrices are
// left out past a budget, saying so per layer ("matrices_omitted"). Fails when the header describes more
// layers × experts than a report can draw (a forged header).
Result<nlohmann::json> routing_report(const trace::Trace& trace, const std::string& source,
                                      const ReportOptions& options = {});

// Two traces of the same model side by side: per MoE layer the expert load shares of each, their shift (b − a),
// total variation, the Jensen–Shannon divergence of the two load distributions (base 2: 0 = same, 1 =
// disjoint), and the overlap of the busiest experts (|top-k of a ∩ top-k of b| / k, k = the layer's native k).
// Error when the traces' MoE layers or expert counts differ.
Result<nlohmann::json> routing_diff(const trace::Trace& a, const std::string& a_source, const trace::Trace& b,
                                    const std::string& b_source);

// Jensen–Shannon divergence (base 2) of two load histograms, each normalised to sum 1; 0 when either is empty.
double js_divergence(std::span<const uint64_t> a, std::span<const uint64_t> b);
// The n busiest experts (ties: lower id first), in decreasing load.
std::vector<int32_t> busiest(std::span<const uint64_t> load, size_t n);

}  // namespace sy::moe::analysis
