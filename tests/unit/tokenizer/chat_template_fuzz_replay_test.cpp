// Replays the chat-template fuzz target (tests/fuzz/chat_template_fuzz.cpp) on the real templates, on cut and
// corrupted versions of one, and on every input kept in tests/fuzz/regressions/chat_template/, so that the
// properties the fuzzer checks hold in every build.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/test_support.h"

namespace sy::fuzz {
int chat_template(const uint8_t* data, size_t size);
}

namespace sy::chat {
namespace {

int replay(const std::string& s) { return fuzz::chat_template(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

std::string read_text(const std::filesystem::path& path) {
  const auto bytes = test::read_file_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

const std::filesystem::path kTemplates = std::filesystem::path(SY_SOURCE_DIR) / "tests/data/chat_templates";

TEST(ChatTemplateFuzzReplay, RealTemplates) {
  size_t count = 0;
  for (const auto& e : std::filesystem::directory_iterator(kTemplates)) {
    if (e.path().extension() != ".jinja") continue;
    EXPECT_EQ(replay(read_text(e.path())), 0) << e.path();
    ++count;
  }
  EXPECT_GE(count, 5u);
}

TEST(ChatTemplateFuzzReplay, PrefixesAndByteFlipsOfATemplate) {
  const std::string source = read_text(kTemplates / "qwen3.jinja");
  for (size_t n = 0; n <= source.size(); n += 11) EXPECT_EQ(replay(source.substr(0, n)), 0) << n;
  const char replacements[] = {'{', '}', '%', '-', '(', ')', '\'', '"', '|', '.', '[', ' ', '\0', '\xff'};
  for (size_t i = 0; i < source.size(); i += 17) {
    std::string flipped = source;
    flipped[i] = replacements[i % sizeof replacements];
    EXPECT_EQ(replay(flipped), 0) << i;
  }
}

TEST(ChatTemplateFuzzReplay, KeptRegressionInputs) {
  const auto dir = std::filesystem::path(SY_SOURCE_DIR) / "tests/fuzz/regressions/chat_template";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  size_t count = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == "README.md") continue;
    EXPECT_EQ(replay(read_text(e.path())), 0) << e.path();
    ++count;
  }
  EXPECT_GT(count, 0u);
}

}  // namespace
}  // namespace sy::chat
