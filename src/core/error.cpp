#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace sy {

void assert_failed(const char* condition, const char* why, const char* file, int line) {
  std::fprintf(stderr, "switchyard: internal error at %s:%d: %s (%s)\n", file, line, condition, why);
  std::abort();
}

}  // namespace sy
