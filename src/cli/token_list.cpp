#include "cli/token_list.h"

#include <charconv>

#include "core/error.h"

namespace sy::cli {

std::vector<int32_t> parse_token_list(const std::string& text) {
  std::vector<int32_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    int32_t v = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || v < 0)
      throw Exception(Error{ErrorCode::kInvalidInput,
                            fmt::format("--tokens: item {} ('{}') is not a non-negative token id", out.size(), item)});
    out.push_back(v);
    start = end + 1;
  }
  return out;
}

}  // namespace sy::cli
