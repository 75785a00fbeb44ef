// PositionalFile's O_DIRECT reads (aligned ranges that may run past the end of the file, a file cut short while
// open) and AnonymousMemory's page-aligned pool.
#include "core/positional_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <numeric>
#include <vector>

#include "core/anonymous_memory.h"
#include "support/test_support.h"

namespace sy {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kPage = PositionalFile::kDirectAlign;

// A file of `bytes` bytes, byte i = i * 7 mod 251, in the build tree (a real file system: tmpfs refuses O_DIRECT).
fs::path pattern_file(const std::string& name, uint64_t bytes) {
  const fs::path p = test::scratch_dir("positional_file_" + name) / name;  // one folder per test: ctest runs them apart
  std::vector<char> data(bytes);
  for (uint64_t i = 0; i < bytes; ++i) data[i] = static_cast<char>(i * 7 % 251);
  std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(bytes));
  return p;
}

bool matches_pattern(const uint8_t* p, uint64_t offset, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i)
    if (p[i] != static_cast<uint8_t>((offset + i) * 7 % 251)) return false;
  return true;
}

TEST(AnonymousMemory, IsPageAlignedWritableAndMovable) {
  auto m = AnonymousMemory::allocate(3 * kPage + 5);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m->data()) % kPage, 0u);
  m->data()[3 * kPage + 4] = 42;
  AnonymousMemory moved = std::move(*m);
  EXPECT_EQ(moved.data()[3 * kPage + 4], 42);
  EXPECT_EQ(m->data(), nullptr);
  // Far more than any machine has: refused with the size named (MAP_NORESERVE does not cover the address space).
  auto huge = AnonymousMemory::allocate(uint64_t{1} << 62);
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message.find(std::to_string(uint64_t{1} << 62)), std::string::npos);
}

TEST(PositionalFile, DirectReadsAnAlignedRangeThatRunsPastTheEnd) {
  const uint64_t size = 5 * kPage + 123;
  const fs::path p = pattern_file("direct.bin", size);
  auto f = PositionalFile::open(p, /*direct=*/true);
  ASSERT_TRUE(f) << f.error().message;
  if (!f->has_direct()) GTEST_SKIP() << "the file system under " << p << " refuses O_DIRECT";
  auto buf = AnonymousMemory::allocate(8 * kPage);
  ASSERT_TRUE(buf);
  // The bytes [2 pages + 10, end of file) through the whole pages around them; the last page is partial.
  ASSERT_TRUE(f->read_direct(2 * kPage, {buf->data(), 4 * kPage}, size));
  EXPECT_TRUE(matches_pattern(buf->data(), 2 * kPage, size - 2 * kPage));
  // Misaligned offset, length or buffer: refused, nothing read.
  EXPECT_FALSE(f->read_direct(kPage + 1, {buf->data(), kPage}, kPage + 2));
  EXPECT_FALSE(f->read_direct(kPage, {buf->data(), kPage - 512}, kPage + 2));
  EXPECT_FALSE(f->read_direct(kPage, {buf->data() + 64, kPage}, kPage + 2));
  // Needing bytes past the range itself is a caller's error too.
  EXPECT_FALSE(f->read_direct(0, {buf->data(), kPage}, 2 * kPage));
}

TEST(PositionalFile, DirectReadOfAFileCutShortNamesTheFile) {
  const fs::path p = pattern_file("cut.bin", 6 * kPage);
  auto f = PositionalFile::open(p, /*direct=*/true);
  ASSERT_TRUE(f) << f.error().message;
  if (!f->has_direct()) GTEST_SKIP() << "the file system under " << p << " refuses O_DIRECT";
  fs::resize_file(p, 3 * kPage + 100);
  auto buf = AnonymousMemory::allocate(4 * kPage);
  ASSERT_TRUE(buf);
  auto r = f->read_direct(2 * kPage, {buf->data(), 4 * kPage}, 5 * kPage);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(p.string()), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("changed while in use"), std::string::npos) << r.error().message;
  // What is still there reads.
  EXPECT_TRUE(f->read_direct(2 * kPage, {buf->data(), 2 * kPage}, 3 * kPage + 100));
  EXPECT_TRUE(matches_pattern(buf->data(), 2 * kPage, kPage + 100));
}

TEST(PositionalFile, BufferedReadsAndDroppingTheCacheKeepTheBytes) {
  const fs::path p = pattern_file("buffered.bin", 3 * kPage);
  auto f = PositionalFile::open(p);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_FALSE(f->has_direct());
  std::vector<uint8_t> out(1000);
  ASSERT_TRUE(f->read_at(777, out));
  EXPECT_TRUE(matches_pattern(out.data(), 777, out.size()));
  f->drop_cached(0, 3 * kPage);
  ASSERT_TRUE(f->read_at(777, out));
  EXPECT_TRUE(matches_pattern(out.data(), 777, out.size()));
}

}  // namespace
}  // namespace sy
