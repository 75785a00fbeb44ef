// Arrays of numbers are stored packed: memory stays proportional to the file however many items a forged
// array claims (an 80 MB file holding one 80 M-item u8 array used to take 3.2 GB to inspect: one ~40-byte
// variant per item).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fstream>

#include "format/gguf_reader.h"
#include "support/test_support.h"
#include "unit/format/gguf_bytes.h"

namespace sy::gguf {
namespace {

using test::GgufBytes;

constexpr uint64_t kBigCount = 80'000'000;

// One metadata key "big" holding an array of `count` items of `type`, each `item_size` zero bytes.
GgufBytes one_array(ValueType type, uint64_t count, size_t item_size) {
  GgufBytes b;
  b.header(0, 1).str("big").u32(static_cast<uint32_t>(ValueType::kArray)).u32(static_cast<uint32_t>(type)).u64(count);
  return b.zeros(count * item_size);
}

TEST(GgufPackedArrays, AnEightyMillionItemU8ArrayCostsItsBytes) {
  const GgufBytes b = one_array(ValueType::kU8, kBigCount, 1);
  auto f = File::parse(b.bytes(), "forged");
  ASSERT_TRUE(f) << f.error().message;
  const Array* a = f->find("big")->as_array();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->size(), kBigCount);
  EXPECT_EQ(a->numbers<uint8_t>().size(), kBigCount);
  EXPECT_LE(a->heap_bytes(), kBigCount + 64);  // was kBigCount * sizeof(Value)
  EXPECT_EQ(f->find("big")->to_display(2), "[u8 x 80000000] 0, 0, …");
}

// The same through the real path, a mapped file opened in a fresh process, measured by its peak RSS: the
// mapping (80 MB once touched) plus the packed copy (80 MB) and the test binary, far below 3 GB.
TEST(GgufPackedArraysDeathTest, InspectingABigArrayStaysProportionalToTheFile) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto path = sy::test::scratch_dir("gguf_packed_arrays") / "big_u8.gguf";
  {
    const GgufBytes b = one_array(ValueType::kU8, kBigCount, 1);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.bytes().data()), static_cast<std::streamsize>(b.bytes().size()));
  }
  EXPECT_EXIT(
      {
        auto f = File::open(path);
        if (!f || f->find("big")->as_array()->size() != kBigCount) std::_Exit(2);
        struct rusage ru {};
        ::getrusage(RUSAGE_SELF, &ru);
        const long peak_mb = ru.ru_maxrss / 1024;
        std::fprintf(stderr, "peak RSS %ld MB\n", peak_mb);
        std::_Exit(peak_mb < 600 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "peak RSS");
  std::filesystem::remove(path);
}

TEST(GgufPackedArrays, EveryNumberTypeReadsBackItsValues) {
  GgufBytes b;
  b.header(0, 2);
  b.str("f").u32(9).u32(static_cast<uint32_t>(ValueType::kF32)).u64(2).put(1.5f).put(-2.0f);
  b.str("b").u32(9).u32(static_cast<uint32_t>(ValueType::kBool)).u64(3).u8(1).u8(0).u8(1);
  auto f = File::parse(b.bytes(), "t");
  ASSERT_TRUE(f) << f.error().message;
  const Array* fa = f->find("f")->as_array();
  ASSERT_EQ(fa->numbers<float>().size(), 2u);
  EXPECT_EQ(fa->numbers<float>()[1], -2.0f);
  EXPECT_TRUE(fa->numbers<int32_t>().empty());  // another type: no view
  EXPECT_EQ(fa->at(0), Value(1.5f));
  const Array* ba = f->find("b")->as_array();
  EXPECT_EQ(ba->elem_type(), ValueType::kBool);
  EXPECT_EQ(ba->at(1), Value(false));
  EXPECT_EQ(*ba, make_array<bool>({true, false, true}));
}

TEST(GgufPackedArrays, ABadBoolInsideAnArrayIsNamedAtItsOffset) {
  GgufBytes b;
  b.header(0, 1).str("b").u32(9).u32(static_cast<uint32_t>(ValueType::kBool)).u64(3).u8(1).u8(0);
  const uint64_t bad_at = b.pos();
  b.u8(2);
  auto f = File::parse(b.bytes(), "t");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find(fmt::format("t: offset {}: metadata 'b': bool value 2 is neither 0 nor 1", bad_at)),
            std::string::npos)
      << f.error().message;
}

TEST(GgufPackedArrays, AStringArrayCountIsBoundedByTheBytesLeft) {
  // 10^9 strings claimed in a file of a few dozen bytes: refused before reserving 40 GB of Values.
  GgufBytes b;
  b.header(0, 1).str("s").u32(9).u32(static_cast<uint32_t>(ValueType::kString)).u64(1'000'000'000).zeros(16);
  auto f = File::parse(b.bytes(), "t");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("array of 1000000000 string elements cannot fit"), std::string::npos)
      << f.error().message;
}

}  // namespace
}  // namespace sy::gguf
