#include "server/core/prepare.h"

#include <fmt/format.h>

#include <random>

#include "moe/policies/routing_spec.h"
#include "runtime/generator.h"
#include "runtime/routing_setup.h"

namespace sy::server {
namespace {

std::optional<std::string> token_text(const tok::Vocab& vocab, std::optional<tok::TokenId> id) {
  if (!id) return std::nullopt;
  return vocab.tokens[static_cast<size_t>(*id)];
}

ApiResult<std::unique_ptr<moe::RoutingPolicy>> request_policy(const model::Model& model, const RoutingRequest& r) {
  if (!r.custom()) return nullptr;
  const auto layers = runtime::moe_layers(model);
  if (layers.empty()) return bad_request("routing", "the model has no MoE layers: 'routing' does not apply");
  const moe::RoutingSpec spec{.route = r.policy,
                              .experts_per_token = 0,
                              .mask_text = r.mask_text,
                              .mask_source = "routing.expert_mask",
                              .bias_text = r.bias_text,
                              .bias_source = "routing.bias"};
  auto built = moe::build_routing_policy(spec, layers, static_cast<int32_t>(model.config().common.n_layer));
  if (!built) {
    const std::string& m = built.error().message;
    const char* param = m.find("routing.expert_mask") != std::string::npos ? "routing.expert_mask"
                        : m.find("routing.bias") != std::string::npos      ? "routing.bias"
                                                                           : "routing.policy";
    return bad_request(param, fmt::format("{}: {}", param, m));
  }
  if (built->policy) return std::move(built->policy);
  // "native" spelled out: the model's own rule, whatever the server's --route says.
  return std::unique_ptr<moe::RoutingPolicy>(std::make_unique<moe::NativeRoutingPolicy>());
}

}  // namespace

Result<ModelContext> make_model_context(const model::Model& model, const tok::Tokenizer& tokenizer,
                                        std::string model_id, int64_t n_ctx, const std::string& template_source) {
  ModelContext ctx;
  ctx.model = &model;
  ctx.tokenizer = &tokenizer;
  const tok::Vocab& vocab = tokenizer.vocab();
  std::string source = template_source;
  if (source.empty() && vocab.chat_template) source = *vocab.chat_template;
  if (!source.empty()) {
    auto t = chat::ChatTemplate::parse(std::move(source));
    if (!t) return tl::unexpected(t.error());
    ctx.chat_template = std::move(*t);
  }
  ctx.bos_text = token_text(vocab, vocab.special.bos);
  ctx.eos_text = token_text(vocab, vocab.special.eos);
  ctx.stop_tokens = runtime::end_of_generation_tokens(vocab);
  ctx.model_id = std::move(model_id);
  ctx.n_ctx = n_ctx;
  return ctx;
}

ApiResult<std::vector<int32_t>> prompt_tokens(const ModelContext& ctx, const GenerationRequest& r) {
  const tok::Tokenizer& tokenizer = *ctx.tokenizer;
  std::vector<int32_t> ids;
  const char* param = r.kind == GenerationRequest::Kind::kChat ? "messages" : "prompt";
  if (r.kind == GenerationRequest::Kind::kChat) {
    if (!ctx.chat_template)
      return tl::unexpected(ApiError{.status = 400,
                                     .type = "invalid_request_error",
                                     .message = "the model has no chat template; use /v1/completions",
                                     .param = "messages",
                                     .code = {}});
    chat::ChatInput input;
    input.messages = r.messages;
    input.add_generation_prompt = true;
    input.bos_token = ctx.bos_text;
    input.eos_token = ctx.eos_text;
    auto rendered = ctx.chat_template->render(input);
    if (!rendered)
      return bad_request("messages", fmt::format("the chat template failed: {}", rendered.error().message));
    // Templates that write the BOS text themselves must not get a second one from the tokenizer (as `chat`).
    const bool has_bos = input.bos_token && rendered->starts_with(*input.bos_token);
    auto enc = tokenizer.encode(*rendered, {.add_special = !has_bos, .parse_special = true});
    if (!enc) return bad_request("messages", enc.error().message);
    ids = std::move(*enc);
  } else if (r.prompt_is_tokens) {
    for (size_t i = 0; i < r.prompt_tokens.size(); ++i)
      if (static_cast<size_t>(r.prompt_tokens[i]) >= tokenizer.size())
        return bad_request(fmt::format("prompt[{}]", i), fmt::format("token id {} is outside the vocabulary of {}",
                                                                     r.prompt_tokens[i], tokenizer.size()));
    ids = r.prompt_tokens;
  } else {
    // As `run` tokenizes a prompt: BOS where the vocabulary asks for it, no special-token parsing.
    auto enc = tokenizer.encode(r.prompt_text, {.add_special = true, .parse_special = false});
    if (!enc) return bad_request("prompt", enc.error().message);
    ids = std::move(*enc);
  }
  if (ids.empty()) return bad_request(param, "the prompt gives no tokens");
  if (static_cast<int64_t>(ids.size()) >= ctx.n_ctx)
    return tl::unexpected(ApiError{
        .status = 400,
        .type = "invalid_request_error",
        .message = fmt::format("the prompt has {} tokens; the context of {} leaves no room for a reply (serve -c)",
                               ids.size(), ctx.n_ctx),
        .param = param,
        .code = "context_length_exceeded"});
  return ids;
}

ApiResult<JobInput> make_job_input(const ModelContext& ctx, GenerationRequest& r, Clock::time_point deadline) {
  JobInput in;
  auto ids = prompt_tokens(ctx, r);
  if (!ids) return tl::unexpected(ids.error());
  in.prompt = std::move(*ids);
  auto policy = request_policy(*ctx.model, r.routing);
  if (!policy) return tl::unexpected(policy.error());
  in.policy = std::move(*policy);
  in.routing_key = r.routing.key();
  in.routing_summary = r.routing.give_back != RoutingRequest::Return::kNone;
  in.routing_per_token = r.routing.give_back == RoutingRequest::Return::kPerToken;
  in.sampling = r.sampling;
  if (!r.seed_given) in.sampling.seed = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  in.max_tokens = r.max_tokens;
  if (!r.ignore_eos) in.stop_tokens = ctx.stop_tokens;
  in.stop_strings = r.stop;
  in.logprobs = r.logprobs;
  in.top_logprobs = r.top_logprobs;
  in.arrival = Clock::now();
  in.deadline = deadline;
  return in;
}

}  // namespace sy::server
