// Which model of a composition answers a request (issue 16): the model the request names, or for `auto` (or no
// model at all) the composition's router reading the request's text. The choice is what the response's `routing`
// object reports: {model, category, confidence, reason}.
//
// The text the router reads: for chat, the last user message; for completions, the prompt. A completion prompt
// given as token ids has no text the router could read (ids mean something only in one model's vocabulary): it
// goes to the composition's default model, and the reason says so.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "coe/composition.h"
#include "coe/prompt_router.h"
#include "server/core/api_error.h"
#include "server/core/model_pool.h"
#include "server/core/request.h"

namespace sy::server {

struct ModelChoice {
  size_t index = 0;        // in the pool
  bool routed = false;     // chosen by the router (not named)
  nlohmann::json routing;  // {model, category (null when none), confidence, reason}
};

// The text the router reads; nullopt for a prompt of token ids.
std::optional<std::string> routing_text(const GenerationRequest& request);

// The model for `request`. Errors: 404 `model_not_found` (param `model`) for a name the composition lacks; 500
// when the router fails or names a model the pool lacks.
ApiResult<ModelChoice> choose_model(const GenerationRequest& request, const ModelPool& pool,
                                    const coe::Composition& composition, coe::PromptRouter& router);

}  // namespace sy::server
