#include "server/core/stop_strings.h"

#include <gtest/gtest.h>

namespace sy::server {
namespace {

TEST(StopMatcher, HoldsBackWhatMayStartAStopString) {
  StopMatcher m({"END", "\n\n"});
  EXPECT_EQ(m.push("hello E"), "hello ");  // "E" may start END
  EXPECT_EQ(m.push("N"), "");              // "EN" still may
  EXPECT_EQ(m.push("o"), "ENo");           // it did not
  EXPECT_FALSE(m.matched());
  EXPECT_EQ(m.push(" a\n"), " a");
  EXPECT_EQ(m.push("\nrest"), "");
  EXPECT_TRUE(m.matched());
  EXPECT_EQ(m.push("more"), "");
  EXPECT_EQ(m.finish(), "");
}

TEST(StopMatcher, FindsAStopStringSplitOverPiecesAndReleasesTheRestAtTheEnd) {
  StopMatcher m({"stop here"});
  std::string shown;
  for (const char* piece : {"we s", "to", "p h", "ere and on"}) shown += m.push(piece);
  EXPECT_TRUE(m.matched());
  EXPECT_EQ(shown, "we ");

  StopMatcher n({"xyz"});
  EXPECT_EQ(n.push("abc x"), "abc ");
  EXPECT_EQ(n.finish(), "x");  // the reply ended: what was held back is text after all
}

TEST(StopMatcher, WithoutStopsPassesEverything) {
  StopMatcher m({});
  EXPECT_EQ(m.push("abc"), "abc");
  EXPECT_EQ(m.finish(), "");
}

}  // namespace
}  // namespace sy::server
