// Human-readable counts and sizes shared by the commands' text output.
#pragma once

#include <fmt/format.h>

#include <string>

namespace sy::cli {

// 30.532 B, 1.282 M, 455.520 K: parameters and other counts, decimal.
inline std::string count_str(double n) {
  if (n >= 1e9) return fmt::format("{:.3f} B", n / 1e9);
  if (n >= 1e6) return fmt::format("{:.3f} M", n / 1e6);
  if (n >= 1e3) return fmt::format("{:.3f} K", n / 1e3);
  return fmt::format("{:.0f}", n);
}

// 17.28 GiB: memory and file sizes, binary.
inline std::string bytes_str(double n) {
  if (n >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", n / (1024.0 * 1024 * 1024));
  if (n >= 1024.0 * 1024) return fmt::format("{:.2f} MiB", n / (1024.0 * 1024));
  if (n >= 1024.0) return fmt::format("{:.2f} KiB", n / 1024.0);
  return fmt::format("{:.0f} B", n);
}

}  // namespace sy::cli
