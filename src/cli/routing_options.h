// Routing and tracing options shared by every command that runs a model (generate, logits, run, perplexity,
// chat, later serve): `add_routing_options` declares them on a CLI11 command; runtime/routing_setup.h builds
// them. Grammar and trace format: docs/routing.md,
// docs/trace-format.md.
#pragma once

#include <atomic>
#include <string>

#include "core/error.h"
#include "runtime/expert_cache_setup.h"
#include "runtime/routing_setup.h"
#include "runtime/session.h"

namespace CLI {
class App;
}

namespace sy::cli {

// The routing options plus where experts live (--expert-cache, --expert-cache-policy: docs/expert-cache.md).
struct RoutingOptions : runtime::RoutingOptions {
  runtime::ExpertCacheOptions expert_cache;
};

void add_routing_options(CLI::App* cmd, RoutingOptions& options);
// --expert-cache and --expert-cache-policy alone (part of add_routing_options; bench takes only these).
void add_expert_cache_options(CLI::App* cmd, runtime::ExpertCacheOptions& options);

// runtime::apply_routing_options and runtime::apply_expert_cache on the session's engine, with the prediction
// summary and the `auto` cache decision printed to stderr.
Status apply_routing_options(runtime::Session& session, const RoutingOptions& options);
// The same on an engine (serve, which runs many sequences).
Status apply_routing_options(runtime::Engine& engine, const RoutingOptions& options);

// Ctrl-C handling for long runs: after install, the first SIGINT only sets a flag that generation loops
// poll (so the trace and outputs are closed normally); a second one ends the process at once.
void install_interrupt_handler();
bool interrupted();
// The flag install_interrupt_handler() raises, for loops that poll an atomic (runtime::GenerateOptions).
const std::atomic<bool>* interrupt_flag();

}  // namespace sy::cli
