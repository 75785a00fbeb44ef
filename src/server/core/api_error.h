// The error a request ends with, in the OpenAI error-object shape: an HTTP status, a type, a message that says
// what was wrong, and the request field it concerns. Parsers of request bodies return ApiResult<T>; the HTTP
// layer turns an ApiError into `{"error": {"message", "type", "param", "code"}}` with its status.
#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace sy::server {

struct ApiError {
  int status = 400;
  std::string type = "invalid_request_error";  // OpenAI's names: invalid_request_error, authentication_error, …
  std::string message;
  std::string param;  // the offending field ("messages[1].content"), empty when none
  std::string code;   // a machine-readable detail (e.g. "context_length_exceeded"), empty when none
};

template <typename T>
using ApiResult = tl::expected<T, ApiError>;

inline tl::unexpected<ApiError> bad_request(std::string param, std::string message) {
  return tl::unexpected<ApiError>(ApiError{.status = 400,
                                           .type = "invalid_request_error",
                                           .message = std::move(message),
                                           .param = std::move(param),
                                           .code = {}});
}

}  // namespace sy::server
