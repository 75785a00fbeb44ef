// `switchyard prune -m MODEL --mask MASK -o SMALLER.gguf`: the model without the experts the mask disables
// (model/prune.h). Pair it with `routes prune`, which writes the mask from a calibration trace.
#include "model/prune.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/error.h"

namespace sy::cli {
namespace {

struct Options {
  std::string model, mask, out;
};

void register_prune(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("prune", "Write a smaller GGUF without the experts an --expert-mask file disables");
  cmd->add_option("-m,--model", o->model, "Input model (GGUF)")->required();
  cmd->add_option("--mask", o->mask, "Experts to remove, in the --expert-mask format (e.g. from routes prune)")
      ->required();
  cmd->add_option("-o,--out", o->out, "Output GGUF")->required();
  cmd->callback([o] {
    const model::PruneSummary s = value_or_throw(model::prune_experts(o->model, o->mask, o->out));
    fmt::print(
        "wrote {}: {} → {} experts per MoE layer, {} tensors sliced, {:.2f} MiB → {:.2f} MiB ({:.1f} %)\n", o->out,
        s.n_expert_before, s.n_expert_after, s.tensors_sliced, static_cast<double>(s.bytes_before) / (1 << 20),
        static_cast<double>(s.bytes_after) / (1 << 20),
        s.bytes_before > 0 ? 100.0 * static_cast<double>(s.bytes_after) / static_cast<double>(s.bytes_before) : 0.0);
  });
}

}  // namespace

SY_COMMAND(prune, register_prune);

}  // namespace sy::cli
