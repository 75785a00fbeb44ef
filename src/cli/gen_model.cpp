// `switchyard gen-model`: writes a random-weight GGUF of a named architecture, from a preset with the shapes
// of a public model or from an architecture's tiny shape with --set overrides. See modelgen/ for the how.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/units.h"
#include "cli/validators.h"
#include "core/error.h"
#include "core/file_io.h"
#include "model/accounting.h"
#include "modelgen/generator.h"
#include "modelgen/presets.h"

namespace sy::cli {
namespace {

struct GenModelOptions {
  std::string preset;
  std::string arch;
  std::string output;
  std::string type = "f32";
  uint64_t seed = 1;
  std::vector<std::string> sets;
  int64_t vocab = 0;
  int threads = 0;
  bool list = false;
  bool dry_run = false;
  bool quiet = false;
};

// The tiny preset an architecture's "given dimensions" start from.
const modelgen::Preset* base_for_arch(std::string_view arch) {
  for (const modelgen::Preset& p : modelgen::all_presets())
    if (p.arch == arch && p.name.ends_with("-tiny")) return &p;
  return nullptr;
}

model::Accounting account_plan(const modelgen::PlannedModel& m) {
  std::vector<model::TensorCost> costs;
  for (size_t i = 0; i < m.table.size(); ++i) {
    const model::TensorSpec& s = m.table[i];
    const int64_t rows = s.shape[1] * s.shape[2];
    costs.push_back({.placement = s.placement,
                     .layer = s.layer,
                     .n_elements = s.n_elements(),
                     .n_bytes = row_bytes(m.types[i], static_cast<uint64_t>(s.shape[0])) * static_cast<uint64_t>(rows),
                     .rows = rows});
  }
  return model::account(m.config, costs);
}

void list_presets() {
  fmt::print("{:<20} {:<10} {:>11} {:>11}  {}\n", "preset", "arch", "total", "active", "shapes from");
  for (const modelgen::Preset& p : modelgen::all_presets()) {
    auto meta = value_or_throw(modelgen::preset_metadata(p, {}));
    auto plan = value_or_throw(modelgen::plan_model(std::move(meta), value_or_throw(modelgen::parse_scheme("f32"))));
    const model::Accounting a = account_plan(plan);
    fmt::print("{:<20} {:<10} {:>11} {:>11}  {}\n", p.name, p.arch, count_str(static_cast<double>(a.total_params)),
               count_str(a.active_params), p.description);
  }
}

void run_gen_model(const GenModelOptions& opt) {
  if (opt.list) return list_presets();
  if (opt.preset.empty() == opt.arch.empty())
    throw Exception(Error{ErrorCode::kInvalidInput, "give exactly one of --preset NAME or --arch ARCH (see --list)"});
  const modelgen::Preset* preset = nullptr;
  if (!opt.preset.empty()) {
    preset = modelgen::find_preset(opt.preset);
    if (preset == nullptr) {
      std::string names;
      for (const auto& p : modelgen::all_presets()) names += (names.empty() ? "" : ", ") + std::string(p.name);
      throw Exception(
          Error{ErrorCode::kInvalidInput, fmt::format("unknown preset '{}' (presets: {})", opt.preset, names)});
    }
  } else {
    preset = base_for_arch(opt.arch);
    if (preset == nullptr) {
      std::string archs;
      for (const auto& p : modelgen::all_presets())
        if (p.name.ends_with("-tiny") && archs.find(p.arch) == std::string::npos)
          archs += (archs.empty() ? "" : ", ") + std::string(p.arch);
      throw Exception(
          Error{ErrorCode::kInvalidInput, fmt::format("unknown architecture '{}' (known: {})", opt.arch, archs)});
    }
  }
  std::vector<modelgen::Override> overrides;
  for (const std::string& s : opt.sets) overrides.push_back(value_or_throw(modelgen::parse_override(s)));
  const modelgen::QuantScheme scheme = value_or_throw(modelgen::parse_scheme(opt.type));
  auto meta = value_or_throw(modelgen::preset_metadata(*preset, overrides, opt.vocab));
  const modelgen::PlannedModel plan = value_or_throw(modelgen::plan_model(std::move(meta), scheme));
  const model::Accounting a = account_plan(plan);
  fmt::print(stderr, "{} ({}), {}: {} tensors, {} parameters ({} active per token), {}\n", preset->name, preset->arch,
             scheme.name, plan.table.size(), count_str(static_cast<double>(a.total_params)), count_str(a.active_params),
             bytes_str(static_cast<double>(plan.tensor_bytes())));
  if (opt.dry_run) return;
  if (opt.output.empty()) throw Exception(Error{ErrorCode::kInvalidInput, "missing -o/--output FILE"});
  value_or_throw(check_output_path(opt.output, {}, "-o/--output"));  // no inputs: only a directory, FIFO, device

  modelgen::GenerateOptions gen;
  gen.seed = opt.seed;
  gen.n_threads = opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  double last_report = -1.0;
  gen.on_progress = [&](const modelgen::Progress& p) {
    if (opt.quiet || (p.seconds - last_report < 1.0 && p.bytes_done != p.bytes_total)) return;
    last_report = p.seconds;
    fmt::print(stderr, "\r  {:5.1f}%  {:.2f} / {:.2f} GB  tensor {}/{}  {:.0f} MB/s   ",
               100.0 * p.bytes_done / std::max<uint64_t>(1, p.bytes_total), p.bytes_done / 1e9, p.bytes_total / 1e9,
               p.tensor + 1, p.n_tensors, p.seconds > 0 ? p.bytes_done / 1e6 / p.seconds : 0.0);
    std::fflush(stderr);
  };
  const auto start = std::chrono::steady_clock::now();
  value_or_throw(modelgen::generate_model(opt.output, plan, gen));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!opt.quiet) fmt::print(stderr, "\n");
  fmt::print(stderr, "wrote {} ({}) in {:.1f} s, {:.0f} MB/s, {} threads, seed {}\n", opt.output,
             bytes_str(static_cast<double>(plan.tensor_bytes())), secs,
             secs > 0 ? plan.tensor_bytes() / 1e6 / secs : 0.0, gen.n_threads, opt.seed);
}

void register_gen_model(CLI::App& app) {
  auto opt = std::make_shared<GenModelOptions>();
  auto* cmd =
      app.add_subcommand("gen-model", "Write a random-weight GGUF from a preset or an architecture's dimensions");
  cmd->add_option("-p,--preset", opt->preset, "Preset name (see --list)");
  cmd->add_option("-a,--arch", opt->arch, "Architecture, starting from its tiny shape; change dimensions with --set");
  cmd->add_option("-o,--output", opt->output, "Output GGUF file");
  cmd->add_option("-t,--type", opt->type, "Tensor types: " + modelgen::scheme_names())->capture_default_str();
  cmd->add_option("-s,--seed", opt->seed, "Random seed (same seed, same bytes)")->capture_default_str();
  cmd->add_option("--set", opt->sets, "Override a metadata key, KEY=VALUE (e.g. block_count=4); repeatable");
  cmd->add_option("--vocab", opt->vocab, "Vocabulary size (default: the preset's)")
      ->check(in_range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("-j,--threads", opt->threads, "Threads (default: all cores)")->check(in_range(0, 1024));
  cmd->add_flag("--list", opt->list, "List presets with their parameter counts");
  cmd->add_flag("-n,--dry-run", opt->dry_run, "Plan only: print sizes, write nothing");
  cmd->add_flag("-q,--quiet", opt->quiet, "No progress line");
  cmd->callback([opt] { run_gen_model(*opt); });
}

}  // namespace

SY_COMMAND(gen_model, register_gen_model);

}  // namespace sy::cli
