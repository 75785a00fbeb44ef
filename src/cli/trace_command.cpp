// `switchyard trace export TRACE (--jsonl | --csv) [-o FILE]`: a routing trace as text, one line per
// (token, MoE layer) record, for tools that do not read the binary format (docs/trace-format.md).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "core/file_io.h"
#include "moe/trace/trace_reader.h"

namespace sy::cli {
namespace {

struct ExportOptions {
  std::string trace;
  std::string out;
  bool jsonl = false;
  bool csv = false;
};

std::string joined(const auto& v, const char* sep) { return fmt::format("{}", fmt::join(v, sep)); }

void run_export(const ExportOptions& opt) {
  if (opt.jsonl == opt.csv)
    throw Exception(Error{ErrorCode::kInvalidInput, "trace export: give exactly one of --jsonl, --csv"});
  const std::filesystem::path inputs[] = {opt.trace};
  value_or_throw(check_output_path(opt.out, inputs, "trace export -o"));
  const moe::trace::Trace t = value_or_throw(moe::trace::read_trace(opt.trace));
  std::unique_ptr<FILE, int (*)(FILE*)> file(opt.out.empty() ? stdout : std::fopen(opt.out.c_str(), "wb"),
                                             opt.out.empty() ? +[](FILE*) { return 0; } : &std::fclose);
  if (!file) throw Exception(Error{ErrorCode::kIo, fmt::format("cannot open {} for writing", opt.out)});
  FILE* f = file.get();
  const bool norm = (t.header.flags & moe::trace::kFlagHiddenNorm) != 0;
  if (opt.csv) {
    // Lists inside a field are ';'-separated so the file stays plain comma-separated.
    fmt::print(f, "seq,pos,layer,experts,weights,top_experts,top_probs,hidden_norm,predicted\n");
    for (const auto& r : t.records)
      fmt::print(f, "{},{},{},{},{},{},{},{},{}\n", r.seq, r.pos, r.layer, joined(r.ids, ";"), joined(r.weights, ";"),
                 joined(r.top_ids, ";"), joined(r.top_probs, ";"), norm ? fmt::format("{}", r.hidden_norm) : "",
                 joined(r.pred, ";"));
  } else {
    for (const auto& r : t.records) {
      nlohmann::json j{{"seq", r.seq}, {"pos", r.pos}, {"layer", r.layer}, {"experts", r.ids}, {"weights", r.weights}};
      if (t.header.top_n > 0) {
        j["top_experts"] = r.top_ids;
        j["top_probs"] = r.top_probs;
      }
      if (norm) j["hidden_norm"] = r.hidden_norm;
      if (t.header.pred_slots > 0) j["predicted"] = r.pred;
      fmt::print(f, "{}\n", j.dump());
    }
  }
  if (std::fflush(f) != 0 || std::ferror(f))
    throw Exception(Error{ErrorCode::kIo, "trace export: writing the output failed"});
  if (t.truncated_bytes > 0)
    fmt::print(stderr, "note: {} ends with a partial record ({} bytes ignored)\n", opt.trace, t.truncated_bytes);
}

void register_trace(CLI::App& app) {
  auto* trace = app.add_subcommand("trace", "Work with routing traces (written by --trace)");
  trace->require_subcommand(1);
  auto opt = std::make_shared<ExportOptions>();
  auto* cmd = trace->add_subcommand("export", "Write a routing trace as JSON lines or CSV");
  cmd->add_option("trace", opt->trace, "Trace file")->required();
  cmd->add_flag("--jsonl", opt->jsonl, "One JSON object per record");
  cmd->add_flag("--csv", opt->csv, "CSV with a header line; lists ';'-separated");
  cmd->add_option("-o,--out", opt->out, "Output file (default: standard output)");
  cmd->callback([opt] { run_export(*opt); });
}

}  // namespace

SY_COMMAND(trace, register_trace);

}  // namespace sy::cli
