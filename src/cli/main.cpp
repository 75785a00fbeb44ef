// switchyard's command line: one thin file per command, each registering itself on the app here.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"switchyard: a Mixture-of-Experts inference engine with routing at its centre"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "switchyard 0.1.0");
  sy::cli::register_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const sy::Exception& e) {
    fmt::print(stderr, "switchyard: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "switchyard: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
