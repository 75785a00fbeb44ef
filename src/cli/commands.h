// Each command lives in its own file and registers itself with SY_COMMAND, so adding a command touches
// no shared list. Commands run from their CLI11 callback and report failure by throwing sy::Exception.
#pragma once

namespace CLI {
class App;
}

namespace sy::cli {

using CommandRegistrar = void (*)(CLI::App& app);

// Records a registrar; returns a dummy so it can initialise a static. Registration order is by name.
int add_command(const char* name, CommandRegistrar registrar);
void register_all_commands(CLI::App& app);

}  // namespace sy::cli

#define SY_COMMAND(name, registrar) \
  [[maybe_unused]] static const int sy_command_registered_##name = ::sy::cli::add_command(#name, registrar)
