// The router of a composition: reads a prompt and says which model answers it and why. One interface for every
// kind the composition file names (composition.h): `rules` (regular expressions), `embedding` (a sentence
// embedding and a trained classifier over categories, the CoE router) and `llm` (a small model scores each
// model's name). The decision is what the server returns in a response's `routing` object.
//
//   auto router = coe::make_prompt_router(composition, {.n_threads = 2});
//   auto decision = (*router)->route("def parse(path):");   // -> {model "code", category "code", 1.0, "rule 1"}
//
// Thread-safety: route() may be called from several threads at once (the server's HTTP threads).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "coe/composition.h"
#include "core/error.h"

namespace sy::coe {

struct RouteDecision {
  std::string model;        // a model of the composition
  std::string category;     // the category the router saw (empty when it chose a model directly)
  double confidence = 1.0;  // in [0, 1]; below the router's threshold the default model answers
  std::string reason;       // one line for people: "rule 2 matched", "below threshold 0.60: default model"
};

class PromptRouter {
 public:
  virtual ~PromptRouter() = default;
  virtual RouterKind kind() const = 0;
  // Fails only when the router cannot run at all (a model it needs failed to load); an unplaceable prompt is a
  // decision for the default model, not an error.
  virtual Result<RouteDecision> route(std::string_view prompt) = 0;
};

struct RouterOptions {
  int n_threads = 1;  // for routers that run a model
};

// The router the composition names, ready to route. Fails with a message naming the composition file and the
// router's key when a pattern does not compile or a file it needs is missing or broken.
Result<std::unique_ptr<PromptRouter>> make_prompt_router(const Composition& composition, const RouterOptions& options);

}  // namespace sy::coe
