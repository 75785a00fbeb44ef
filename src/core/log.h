// Minimal leveled logging to stderr. The level is a value owned by the caller's context, not global state
// that libraries change behind anyone's back; libraries report through Result and leave printing to cli/.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <utility>

namespace sy {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

template <typename... Args>
void log(LogLevel want, LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (level > want) return;
  fmt::print(stderr, format, std::forward<Args>(args)...);
  std::fputc('\n', stderr);
}

}  // namespace sy
