// switchyard's command line: one thin file per command, each registering itself on the app here.
// Every error leaves as one line on stderr, "switchyard: error: MESSAGE": a command line that cannot be
// parsed (usage errors) with status 2, a failure while the command runs with status 1. --help and
// --version print to stdout and exit 0.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <new>
#include <span>

#include "cli/commands.h"
#include "cli/usage_errors.h"
#include "core/error.h"

namespace {

int report(std::string_view message, int status) {
  std::fflush(stdout);
  fmt::print(stderr, "switchyard: error: {}\n", message);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"switchyard: a Mixture-of-Experts inference engine with routing at its centre"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "switchyard 0.1.0");
  sy::cli::register_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
    return report(sy::cli::usage_error_message(app, e, std::span<char* const>(argv, static_cast<size_t>(argc))), 2);
  } catch (const sy::Exception& e) {
    return report(e.what(), 1);
  } catch (const std::bad_alloc&) {
    return report("out of memory (a buffer this command needs could not be allocated)", 1);
  } catch (const std::exception& e) {
    return report(e.what(), 1);
  }
  return 0;
}
