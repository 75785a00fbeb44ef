// The `llm` router (Router-R1's routing step, one round; moe-reference.md B20): a small language model (the
// composition's [router] scorer) reads the models' descriptions and the prompt,
//
//   Models:
//   code: Python code.
//   generalist: General text in eight languages and Python code.
//   Text: <the prompt, cut to fit the scorer's context>
//   Model:
//
// and each model's name is scored by its log-probability as the continuation " NAME\n" (the newline ends the
// name, so a name that is a prefix of another does not win by being shorter). Confidence is the winner's share
// of a softmax over the names' log-probabilities; below the composition's threshold the default model answers.
// The prompt is cut to its first tokens so that descriptions, prompt and the longest name fit the scorer's
// training context; descriptions too long to leave 16 prompt tokens are refused when the router is made.
// Thread-safety: route() may be called from several threads at once; the scorer runs one call at a time.
#pragma once

#include <memory>

#include "coe/prompt_router.h"

namespace sy::coe {

Result<std::unique_ptr<PromptRouter>> make_llm_router(const Composition& composition, const RouterOptions& options);

}  // namespace sy::coe
