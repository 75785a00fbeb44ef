// Stop strings (`stop` in a request): text that ends a reply. Generated text is pushed piece by piece; text
// that might be the start of a stop string is held back until it is known not to be, so a stream never shows
// a stop string or part of one. Not thread-safe: one owner (the scheduler, per job).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sy::server {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  // Appends `text` and returns what may be shown now. After a match, returns the text before the stop string
  // and matched() is true; later pushes return nothing.
  std::string push(std::string_view text);
  // What is still held back (the end of the reply has come without a match).
  std::string finish();
  bool matched() const { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool matched_ = false;
};

}  // namespace sy::server
