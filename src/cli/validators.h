// Checks for numeric options whose messages name the value and what is wrong with it ("'abc' is not an
// integer", "'nan' is not a finite number", "'9' is outside 0 to 5"); main.cpp puts the option's names in
// front. Used instead of CLI::Range, which lets NaN through (every comparison with NaN is false) and calls
// text that is no number "not in range".
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <string>
#include <type_traits>

namespace sy::cli {

// Inclusive [lo, hi]; for floating-point options also refuses NaN and infinities.
template <typename T>
CLI::Validator in_range(T lo, T hi) {
  static_assert(std::is_arithmetic_v<T>);
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        const char* first = text.data() + (text.starts_with('+') ? 1 : 0);
        const char* last = text.data() + text.size();
        T v{};
        const auto [end, ec] = std::from_chars(first, last, v);
        if (first == last || end != last || ec == std::errc::invalid_argument)
          return fmt::format("'{}' is not {}", text, std::is_integral_v<T> ? "an integer" : "a number");
        if constexpr (std::is_floating_point_v<T>)
          if (!std::isfinite(v)) return fmt::format("'{}' is not a finite number", text);
        if (ec == std::errc::result_out_of_range || v < lo || v > hi)
          return fmt::format("'{}' is outside {} to {}", text, lo, hi);
        return {};
      },
      fmt::format("{} to {}", lo, hi));
}

}  // namespace sy::cli
