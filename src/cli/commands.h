// Each command lives in its own file and adds itself to the app with a register_* function.
// Commands run from their CLI11 callback and report failure by throwing sy::Exception.
#pragma once

namespace CLI {
class App;
}

namespace sy::cli {

void register_inspect(CLI::App& app);

inline void register_all_commands(CLI::App& app) { register_inspect(app); }

}  // namespace sy::cli
