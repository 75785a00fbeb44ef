// `switchyard serve`: the OpenAI-compatible HTTP server (cpp-httplib) in front of the scheduler. Endpoints,
// extensions, metrics and limits: docs/server.md.
//
//   server::ServeOptions o{.port = 0};
//   server::serve(*model, tokenizer, o, [&](runtime::Engine& e) { return apply_routing(e); });  // until SIGTERM
//
// serve() owns the engine (created here, configured by the caller's callback), the scheduler thread and the HTTP
// threads; it returns after SIGTERM or SIGINT once in-flight requests have finished (or `drain_seconds` passed).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "coe/composition.h"
#include "coe/prompt_router.h"
#include "core/error.h"
#include "model/model.h"
#include "runtime/engine.h"
#include "server/core/model_pool.h"
#include "server/core/request.h"
#include "server/core/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace sy::server {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                          // 0: any free port (the line on stderr says which)
  std::string api_key;                      // empty: no authentication
  double timeout_s = 600;                   // per request, from arrival to the last token; 0: none
  double drain_seconds = 30;                // after SIGTERM: how long in-flight requests may take to finish
  size_t max_body_bytes = size_t{8} << 20;  // larger bodies get 413
  int n_threads = 1;                        // the engine's threads
  std::string model_id;                     // what /v1/models lists (default: the file's general.name)
  std::string chat_template;                // a template to use instead of the model's (source text)
  RequestDefaults defaults;
  SchedulerOptions scheduler;
};

// Runs until SIGTERM/SIGINT. Fails (before serving) when the address cannot be bound or the setup fails.
Status serve(const model::Model& model, const tok::Tokenizer& tokenizer, const ServeOptions& options,
             const EngineSetup& setup);

// A composition (issue 16; docs/server.md, "Compositions"): its models behind one endpoint, loaded on demand
// within its budget, and `auto` answered by `router`. Every model file is opened and checked first: a missing,
// broken or oversized model fails here, naming it, before anything listens. `setup` configures each model's
// engine when it loads; options.model_id is not used (each model has its name in the composition).
Status serve_composition(const coe::Composition& composition, coe::PromptRouter& router, const ServeOptions& options,
                         const EngineSetup& setup);

}  // namespace sy::server
