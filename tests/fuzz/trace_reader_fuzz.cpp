// Fuzz target: routing trace files as `switchyard trace export` and `routes report` read them: the reader
// (header, records, a cut-off tail), then — for a trace with records — the report's figures as JSON and the
// HTML page drawn from them. Any outcome but a clean error (which says something) or a trace whose records
// keep the reader's promises is a finding; so is a report that a forged header makes huge or slow.
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>

#include "cli/routes_report.h"
#include "fuzz/fuzz_target.h"
#include "moe/analysis/report.h"
#include "moe/trace/trace_reader.h"

SY_FUZZ_TARGET(trace_reader) {
  // Exactly `size` bytes on the heap, so AddressSanitizer flags a read past them.
  auto owned = std::make_unique<uint8_t[]>(size);
  if (size > 0) std::memcpy(owned.get(), data, size);
  auto trace = sy::moe::trace::parse_trace(std::span<const uint8_t>(owned.get(), size));
  if (!trace) {
    if (trace.error().message.empty()) __builtin_trap();  // every error must say something
    return 0;
  }
  const sy::moe::trace::TraceHeader& h = trace->header;
  if (trace->truncated_bytes >= h.record_bytes()) __builtin_trap();  // only a partial last record is ignored
  for (const auto& r : trace->records) {
    const sy::moe::trace::TraceLayer* layer = nullptr;
    for (const auto& l : h.layers)
      if (l.layer == r.layer) layer = &l;
    if (layer == nullptr || r.ids.size() > h.slots || r.ids.size() != r.weights.size() ||
        r.pred.size() > h.pred_slots || r.top_ids.size() > h.top_n || r.top_ids.size() != r.top_probs.size())
      __builtin_trap();
    for (const auto* ids : {&r.ids, &r.top_ids, &r.pred})
      for (int32_t id : *ids)
        if (id < 0 || static_cast<uint32_t>(id) >= layer->n_expert) __builtin_trap();
  }
  if (trace->records.empty()) return 0;  // `routes report` refuses an empty trace before any figure
  auto report = sy::moe::analysis::routing_report(*trace, "fuzz");
  if (!report) {
    if (report.error().message.empty()) __builtin_trap();
    return 0;
  }
  // What `routes report` writes: the JSON (bytes that are not UTF-8 replaced) and the page.
  volatile size_t sink = report->dump(1, ' ', false, nlohmann::json::error_handler_t::replace).size();
  sink = sink + sy::cli::report_html(*report).size();
  (void)sink;
  return 0;
}
