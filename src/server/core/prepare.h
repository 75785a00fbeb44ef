// From a parsed request to what the scheduler runs: the prompt's tokens (chat messages through the model's chat
// template, or a completion prompt as text or ids), the stop tokens, and the request's own routing policy built
// with the `--route` grammar. Runs on the HTTP thread that received the request, so tokenizing and template
// rendering happen in parallel with the engine. Every failure is an ApiError naming the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/model.h"
#include "server/core/job.h"
#include "server/core/request.h"
#include "tokenizer/chat/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace sy::server {

// What every request handler reads; immutable once the server runs (shared by the HTTP threads).
struct ModelContext {
  const model::Model* model = nullptr;
  const tok::Tokenizer* tokenizer = nullptr;
  std::optional<chat::ChatTemplate> chat_template;  // absent: chat requests are refused
  std::optional<std::string> bos_text, eos_text;    // what the template sees as bos_token / eos_token
  std::vector<int32_t> stop_tokens;                 // end-of-generation ids
  std::string model_id;                             // the name /v1/models lists
  int64_t n_ctx = 0;                                // per sequence
};

// The context for a loaded model: its chat template (or `template_source` when not empty), stop tokens and id.
Result<ModelContext> make_model_context(const model::Model& model, const tok::Tokenizer& tokenizer,
                                        std::string model_id, int64_t n_ctx, const std::string& template_source);

// The prompt's tokens; fails (400) when it gives none, does not fit the context with room for one token, or
// (for ids) is outside the vocabulary. Chat prompts end with the template's generation prompt.
ApiResult<std::vector<int32_t>> prompt_tokens(const ModelContext& ctx, const GenerationRequest& request);

// The whole JobInput: prompt, sampling (a drawn seed when none was given), limits, stops, routing.
ApiResult<JobInput> make_job_input(const ModelContext& ctx, GenerationRequest& request, Clock::time_point deadline);

}  // namespace sy::server
