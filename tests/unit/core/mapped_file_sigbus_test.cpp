// A mapped file truncated under us: the SIGBUS of the next read becomes a message naming the file and a
// clean exit, not a crash. Death tests run the truncation and the read in a child process (re-executed:
// "threadsafe" style), on plain files and on a copy of a conformance model read through its tensor views.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "core/mapped_file.h"
#include "format/gguf_reader.h"
#include "support/test_support.h"

namespace sy {
namespace {

namespace fs = std::filesystem;

// One scratch directory per test (ctest runs them in parallel); scratch_dir empties it, so call it once.
fs::path test_dir() {
  return test::scratch_dir(std::string("mapped_file_") +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

fs::path make_file(const fs::path& dir, const std::string& name, size_t size) {
  const fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << std::string(size, 'x');
  return p;
}

// Truncates the file and reads a page past its new end.
int touch_after_truncate(const MappedFile& m, const fs::path& path) {
  if (::truncate(path.c_str(), 0) != 0) return -1;
  const volatile uint8_t* p = m.bytes().data();
  return p[m.bytes().size() - 1];
}

TEST(MappedFileDeathTest, TruncatedWhileMappedIsAClearError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const fs::path path = make_file(test_dir(), "truncated.bin", 1 << 16);
  EXPECT_EXIT(
      {
        auto m = MappedFile::open(path);
        if (!m) std::abort();
        touch_after_truncate(*m, path);
      },
      ::testing::ExitedWithCode(kSigbusExitCode),
      "switchyard: error: the file '.*truncated\\.bin' changed or was truncated while in use \\(SIGBUS");
}

TEST(MappedFileDeathTest, NamesTheFileThatFaultedAmongSeveral) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const fs::path dir = test_dir();
  const fs::path a = make_file(dir, "first.bin", 1 << 16);
  const fs::path b = make_file(dir, "second.bin", 1 << 16);
  EXPECT_EXIT(
      {
        auto ma = MappedFile::open(a);
        auto mb = MappedFile::open(b);
        if (!ma || !mb) std::abort();
        MappedFile moved = std::move(*mb);  // the table follows a moved mapping
        touch_after_truncate(moved, b);
      },
      ::testing::ExitedWithCode(kSigbusExitCode), "the file '.*second\\.bin' changed");
}

TEST(MappedFileDeathTest, AModelTruncatedUnderItsTensorViewsIsAClearError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const fs::path model = test::conformance_models().front();
  const fs::path copy = test_dir() / model.filename();
  fs::copy_file(model, copy);
  EXPECT_EXIT(
      {
        auto file = gguf::File::open(copy);
        if (!file || file->tensors().empty()) std::abort();
        const auto data = file->tensors().back().data;
        if (::truncate(copy.c_str(), 4096) != 0) std::abort();  // the header survives, the tensors do not
        volatile uint8_t sink = data[data.size() - 1];
        (void)sink;
      },
      ::testing::ExitedWithCode(kSigbusExitCode),
      "the file '.*" + model.filename().string() + "' changed or was truncated while in use");
}

TEST(MappedFile, ReleasedMappingsFreeTheirSlots) {
  const fs::path p = make_file(test_dir(), "many.bin", 4096);
  for (size_t i = 0; i < 4 * kMaxTrackedMappings; ++i) {
    auto m = MappedFile::open(p);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->bytes()[0], 'x');
  }
}

}  // namespace
}  // namespace sy
