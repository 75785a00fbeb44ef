// `switchyard routes prune TRACE --keep N|FRACTION [--score freq|mass|tcess] -o MASK`: chooses the experts to
// keep per layer from a calibration trace (moe/analysis/prune.h) and writes them as an --expert-mask file.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "cli/routes_report.h"
#include "cli/validators.h"
#include "core/error.h"
#include "core/file_io.h"
#include "moe/analysis/prune.h"

namespace sy::cli {
namespace {

struct PruneOptions {
  std::string trace, keep, score = "freq", out;
  double threshold = -1.0;
};

// "4" keeps 4 experts per layer; "0.5" (a number with a point) keeps that fraction.
void parse_keep(const std::string& text, moe::analysis::PruneRequest& req) {
  const auto bad = [&](const char* why) {
    return Exception(Error{ErrorCode::kInvalidInput, fmt::format("--keep '{}': {}", text, why)});
  };
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (text.find_first_of(".eE") == std::string::npos) {
    int32_t n = 0;
    const auto [end, ec] = std::from_chars(first, last, n);
    if (first == last || end != last || ec != std::errc()) throw bad("not an expert count or a fraction");
    if (n < 1) throw bad("keep at least one expert");
    req.keep = n;
    return;
  }
  double f = 0;
  const auto [end, ec] = std::from_chars(first, last, f);
  if (first == last || end != last || ec != std::errc() || !std::isfinite(f)) throw bad("not a number");
  if (!(f > 0.0 && f <= 1.0)) throw bad("a fraction must be in (0, 1]");
  req.keep_fraction = f;
}

void run(const PruneOptions& o) {
  moe::analysis::PruneRequest req;
  parse_keep(o.keep, req);
  req.score = std::map<std::string, moe::analysis::PruneScore>{{"freq", moe::analysis::PruneScore::kFreq},
                                                               {"mass", moe::analysis::PruneScore::kMass},
                                                               {"tcess", moe::analysis::PruneScore::kTcess}}
                  .at(o.score);
  req.tcess_threshold = o.threshold;
  const std::filesystem::path inputs[] = {o.trace};
  value_or_throw(check_output_path(o.out, inputs, "routes prune -o"));
  const moe::trace::Trace t = value_or_throw(moe::trace::read_trace(o.trace));
  if (t.records.empty())
    throw Exception(Error{ErrorCode::kInvalidInput, fmt::format("{}: the trace has no records", o.trace)});
  const auto layers = value_or_throw(moe::analysis::choose_experts(t, req));
  std::string comment = fmt::format("switchyard routes prune {} --keep {} --score {}", o.trace, o.keep, o.score);
  for (const auto& l : layers)
    comment +=
        fmt::format("\nlayer {}: keeps {} (scores {:.4g})", l.layer, fmt::join(l.kept, " "), fmt::join(l.score, " "));
  std::ofstream out(o.out, std::ios::binary);
  out << moe::analysis::expert_mask_text(layers, comment);
  if (!out.flush()) throw Exception(Error{ErrorCode::kIo, fmt::format("writing {} failed", o.out)});
  const size_t kept = layers.empty() ? 0 : layers[0].kept.size();
  fmt::print("wrote {}: {} MoE layers, {} of {} experts kept per layer (score {})\n", o.out, layers.size(), kept,
             layers.empty() ? 0 : layers[0].n_expert, o.score);
}

}  // namespace

void register_routes_prune(CLI::App& routes) {
  auto o = std::make_shared<PruneOptions>();
  auto* cmd = routes.add_subcommand("prune", "Choose the experts to keep per layer from a calibration trace");
  cmd->add_option("trace", o->trace, "Calibration trace (from --trace; --trace-top N for tcess)")->required();
  cmd->add_option("--keep", o->keep, "Experts kept per layer: a count (4) or a fraction (0.5)")->required();
  cmd->add_option("--score", o->score, "freq (times chosen), mass (sum of weights) or tcess (PreMoe)")
      ->check(CLI::IsMember({"freq", "mass", "tcess"}));
  cmd->add_option("--tcess-threshold", o->threshold,
                  "TCESS: count router probabilities at or above R (default 1 / expert count)")
      ->check(in_range(0.0, 1.0));
  cmd->add_option("-o,--out", o->out, "Mask file to write (the --expert-mask format)")->required();
  cmd->callback([o] { run(*o); });
}

}  // namespace sy::cli
