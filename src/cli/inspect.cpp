// `switchyard inspect FILE [--json]`: what a user deciding whether a model fits wants to know.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "format/gguf_reader.h"

namespace sy::cli {
namespace {

struct InspectOptions {
  std::string path;
  bool json = false;
};

void run_inspect(const InspectOptions& opt) {
  auto file = value_or_throw(gguf::File::open(opt.path));
  fmt::print("file: {}\nGGUF version {}, alignment {}, {} metadata entries, {} tensors\n", opt.path, file.version(),
             file.alignment(), file.metadata().size(), file.tensors().size());
  for (const auto& [key, value] : file.metadata()) fmt::print("  {} = {}\n", key, value.to_display());
  for (const auto& t : file.tensors())
    fmt::print("  {:<40} {:<8} {:<24} {}\n", t.name, type_name(t.type), t.shape_string(), t.n_bytes);
}

void register_inspect(CLI::App& app) {
  auto opt = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("inspect", "Show a GGUF model's architecture, routing, tensors and memory needs");
  cmd->add_option("file", opt->path, "GGUF file")->required();
  cmd->add_flag("--json", opt->json, "Print JSON instead of text");
  cmd->callback([opt] { run_inspect(*opt); });
}

}  // namespace

SY_COMMAND(inspect, register_inspect);

}  // namespace sy::cli
