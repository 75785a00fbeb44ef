// The `rules` router: the composition's regular expressions (PCRE2, UTF-8) tried in order; the first that
// matches the prompt names a category (routed by the category table) or a model. Nothing matching: the default
// model with confidence 0. Matching is bounded (PCRE2 match and depth limits), so a hostile prompt cannot make a
// pattern backtrack for long; a rule that hits the limit counts as not matching and the reason says so.
#pragma once

#include <memory>

#include "coe/prompt_router.h"

namespace sy::coe {

Result<std::unique_ptr<PromptRouter>> make_rules_router(const Composition& composition);

}  // namespace sy::coe
