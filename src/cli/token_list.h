// Parsing of `--tokens 1,2,3` lists for the commands that take token ids directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sy::cli {

// Comma-separated non-negative ids; throws sy::Exception naming the bad item and its index.
std::vector<int32_t> parse_token_list(const std::string& text);

}  // namespace sy::cli
