#include "server/core/model_choice.h"

#include <fmt/format.h>

namespace sy::server {
namespace {

using nlohmann::json;

ApiError server_error(std::string message) {
  return ApiError{.status = 500, .type = "server_error", .message = std::move(message), .param = {}, .code = {}};
}

}  // namespace

std::optional<std::string> routing_text(const GenerationRequest& request) {
  if (request.kind == GenerationRequest::Kind::kCompletion) {
    if (request.prompt_is_tokens) return std::nullopt;
    return request.prompt_text;
  }
  for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it)
    if (it->value("role", "") == "user") {
      const auto& content = (*it)["content"];
      return content.is_string() ? content.get<std::string>() : std::string();
    }
  return std::string();  // no user message: the router sees nothing (and picks the default model)
}

ApiResult<ModelChoice> choose_model(const GenerationRequest& request, const ModelPool& pool,
                                    const coe::Composition& composition, coe::PromptRouter& router) {
  ModelChoice c;
  if (!request.model.empty() && request.model != "auto") {
    const int64_t i = pool.find(request.model);
    if (i < 0)
      return tl::unexpected(ApiError{.status = 404,
                                     .type = "invalid_request_error",
                                     .message = fmt::format("The model '{}' does not exist (this composition has "
                                                            "'auto' and its models: GET /v1/models)",
                                                            request.model),
                                     .param = "model",
                                     .code = "model_not_found"});
    c.index = static_cast<size_t>(i);
    c.routing = {
        {"model", request.model}, {"category", nullptr}, {"confidence", 1.0}, {"reason", "named in the request"}};
    return c;
  }
  c.routed = true;
  const std::optional<std::string> text = routing_text(request);
  coe::RouteDecision d;
  if (!text) {
    d.model = composition.default_model;
    d.confidence = 0;
    d.reason = "a prompt of token ids has no text to route: default model";
  } else {
    auto routed = router.route(*text);
    if (!routed) return tl::unexpected(server_error(fmt::format("the router failed: {}", routed.error().message)));
    d = std::move(*routed);
  }
  const int64_t i = pool.find(d.model);
  if (i < 0)
    return tl::unexpected(server_error(fmt::format("the router chose '{}', which is not a model here", d.model)));
  c.index = static_cast<size_t>(i);
  c.routing = {{"model", d.model},
               {"category", d.category.empty() ? json() : json(d.category)},
               {"confidence", d.confidence},
               {"reason", d.reason}};
  return c;
}

}  // namespace sy::server
