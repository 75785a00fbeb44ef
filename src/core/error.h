// Error values for expected failures (bad input, missing files) and the exception that carries one up to a
// command or request boundary. Policy (STYLE.md §8): parsers return Result<T>; code that cannot continue may
// throw sy::Exception; asserts (SY_ASSERT) guard invariants that no input can reach.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace sy {

// What kind of failure, so callers can react without parsing messages. Stable values: they reach exit codes.
enum class ErrorCode : int {
  kInvalidInput = 1,  // outside data is malformed (file, request, argument)
  kIo = 2,            // the operating system refused (open, read, mmap, write)
  kUnsupported = 3,   // well-formed but not something switchyard implements
  kNotFound = 4,      // a named thing (key, tensor, file) is absent
  kOutOfRange = 5,    // a value is outside its allowed range
};

struct Error {
  ErrorCode code = ErrorCode::kInvalidInput;
  std::string message;  // says what was wrong and where (file, field, offset, line)
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

template <typename... Args>
tl::unexpected<Error> fail(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return tl::unexpected<Error>(Error{code, fmt::format(format, std::forward<Args>(args)...)});
}

// Carries an Error to the boundary where it becomes a message and an exit code (or an HTTP error).
class Exception : public std::runtime_error {
 public:
  explicit Exception(Error error) : std::runtime_error(error.message), error_(std::move(error)) {}
  const Error& error() const { return error_; }

 private:
  Error error_;
};

// Unwraps a Result or throws its error: for code paths whose only sensible reaction is to stop the operation.
template <typename T>
T value_or_throw(Result<T>&& result) {
  if (!result) throw Exception(std::move(result.error()));
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

[[noreturn]] void assert_failed(const char* condition, const char* why, const char* file, int line);

}  // namespace sy

// An invariant no input can reach; `why` explains the reasoning so a failure is actionable.
#define SY_ASSERT(cond, why)                                          \
  do {                                                                \
    if (!(cond)) ::sy::assert_failed(#cond, why, __FILE__, __LINE__); \
  } while (0)
