#include "cli/commands.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace sy::cli {
namespace {

// Function-local so registration from other files' static initialisers is order-safe.
std::vector<std::pair<std::string, CommandRegistrar>>& registry() {
  static std::vector<std::pair<std::string, CommandRegistrar>> commands;
  return commands;
}

}  // namespace

int add_command(const char* name, CommandRegistrar registrar) {
  registry().emplace_back(name, registrar);
  return 0;
}

void register_all_commands(CLI::App& app) {
  auto commands = registry();
  std::sort(commands.begin(), commands.end());
  for (const auto& [name, registrar] : commands) registrar(app);
}

}  // namespace sy::cli
