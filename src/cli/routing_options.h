// Routing and tracing options shared by every command that runs a model (generate, logits, run, perplexity,
// chat, later serve): `add_routing_options` declares them on a CLI11 command; runtime/routing_setup.h builds
// them. Grammar and trace format: docs/routing.md,
// docs/trace-format.md.
#pragma once

#include <atomic>

#include <string>

#include "core/error.h"
#include "runtime/routing_setup.h"
#include "runtime/session.h"

namespace CLI {
class App;
}

namespace sy::cli {

using RoutingOptions = runtime::RoutingOptions;

void add_routing_options(CLI::App* cmd, RoutingOptions& options);

// runtime::apply_routing_options on the session's engine, with the prediction summary printed to stderr.
Status apply_routing_options(runtime::Session& session, const RoutingOptions& options);

// Ctrl-C handling for long runs: after install, the first SIGINT only sets a flag that generation loops
// poll (so the trace and outputs are closed normally); a second one ends the process at once.
void install_interrupt_handler();
bool interrupted();
// The flag install_interrupt_handler() raises, for loops that poll an atomic (runtime::GenerateOptions).
const std::atomic<bool>* interrupt_flag();

}  // namespace sy::cli
