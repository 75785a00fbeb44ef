#include "server/core/stop_strings.h"

#include <algorithm>

namespace sy::server {

std::string StopMatcher::push(std::string_view text) {
  if (matched_) return {};
  pending_.append(text);
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, pending_.find(s));
  if (first != std::string::npos) {
    matched_ = true;
    std::string out = pending_.substr(0, first);
    pending_.clear();
    return out;
  }
  // Hold back the longest end of the text that begins some stop string.
  size_t hold = 0;
  for (const std::string& s : stops_)
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n)
      if (std::string_view{pending_}.substr(pending_.size() - n) == std::string_view{s}.substr(0, n)) {
        hold = n;
        break;
      }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopMatcher::finish() {
  std::string out;
  out.swap(pending_);
  return matched_ ? std::string() : out;
}

}  // namespace sy::server
