// Routing and tracing options shared by every command that runs a model (generate, logits, run, perplexity,
// chat, later serve): `add_routing_options` declares them on a CLI11 command, `apply_routing_options`
// installs the policy and the observers on a session. Grammar and trace format: docs/routing.md,
// docs/trace-format.md.
#pragma once

#include <atomic>

#include <string>

#include "core/error.h"
#include "runtime/session.h"

namespace CLI {
class App;
}

namespace sy::cli {

struct RoutingOptions {
  std::string route;           // --route: "[LAYERS=]POLICY,..."
  int experts_per_token = 0;   // --experts-per-token K (0: the model's k)
  std::string expert_mask;     // --expert-mask FILE
  std::string route_bias;      // --route-bias FILE
  std::string trace;           // --trace FILE
  int trace_top = 0;           // --trace-top N: router probabilities per record
  bool trace_hidden_norm = false;
  bool predict_next = false;   // --predict-next: predicted experts in the trace, recall on stderr
};

void add_routing_options(CLI::App* cmd, RoutingOptions& options);

// Builds the policy and trace writer for the session's model and hands them to the session, which owns
// them until it is destroyed (the trace is complete then). Errors name the option, file and line.
Status apply_routing_options(runtime::Session& session, const RoutingOptions& options);

// Ctrl-C handling for long runs: after install, the first SIGINT only sets a flag that generation loops
// poll (so the trace and outputs are closed normally); a second one ends the process at once.
void install_interrupt_handler();
bool interrupted();
// The flag install_interrupt_handler() raises, for loops that poll an atomic (runtime::GenerateOptions).
const std::atomic<bool>* interrupt_flag();

}  // namespace sy::cli
