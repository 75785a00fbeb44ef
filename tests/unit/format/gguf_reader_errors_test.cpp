// Every error the GGUF reader can produce, each triggered by a forged file: the message must name the source,
// the byte offset and the field, and the reader must neither crash nor read outside the bytes it was given.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "format/gguf_reader.h"
#include "unit/format/gguf_bytes.h"

namespace sy::gguf {
namespace {

using test::GgufBytes;

// The file must fail with a message that starts "forged.gguf: offset <offset>: <field>" and contains `detail`.
testing::AssertionResult fails_at(const GgufBytes& b, uint64_t offset, const std::string& field,
                                  const std::string& detail) {
  // A heap copy of exactly the file's size: AddressSanitizer catches a read past its end.
  std::vector<uint8_t> copy = b.bytes();
  auto file = File::parse(copy, "forged.gguf");
  if (file) return testing::AssertionFailure() << "parsed without error";
  const Error& e = file.error();
  if (e.code != ErrorCode::kInvalidInput) return testing::AssertionFailure() << "wrong code: " << e.message;
  const std::string prefix = fmt::format("forged.gguf: offset {}: {}", offset, field);
  if (e.message.rfind(prefix, 0) != 0)
    return testing::AssertionFailure() << "message '" << e.message << "' does not start with '" << prefix << "'";
  if (e.message.find(detail) == std::string::npos)
    return testing::AssertionFailure() << "message '" << e.message << "' lacks '" << detail << "'";
  return testing::AssertionSuccess();
}

// A metadata string long enough that a file's counts pass the size bound before the field under test.
const std::string kFiller(120, 'x');

// --- header ---

TEST(GgufReaderErrors, MagicTruncated) { EXPECT_TRUE(fails_at(GgufBytes().raw("GG"), 0, "magic", "file ends")); }

TEST(GgufReaderErrors, EmptyInput) { EXPECT_TRUE(fails_at(GgufBytes(), 0, "magic", "file ends after 0 bytes")); }

TEST(GgufReaderErrors, BadMagic) {
  EXPECT_TRUE(fails_at(GgufBytes().raw("GGML").u32(3).i64(0).i64(0), 0, "magic", "not a GGUF file"));
}

TEST(GgufReaderErrors, VersionTruncated) {
  EXPECT_TRUE(fails_at(GgufBytes().raw("GGUF").u8(3), 4, "version", "file ends after 1 bytes, 4 needed"));
}

TEST(GgufReaderErrors, VersionOne) {
  EXPECT_TRUE(fails_at(GgufBytes().header(0, 0, 1), 4, "version", "version 1 is not supported"));
}

TEST(GgufReaderErrors, UnsupportedVersions) {
  EXPECT_TRUE(fails_at(GgufBytes().header(0, 0, 0), 4, "version", "unsupported GGUF version 0"));
  EXPECT_TRUE(fails_at(GgufBytes().header(0, 0, 4), 4, "version", "unsupported GGUF version 4"));
}

TEST(GgufReaderErrors, ByteSwappedVersion) {
  EXPECT_TRUE(fails_at(GgufBytes().header(0, 0, 0x03000000), 4, "version", "byte-swapped"));
}

TEST(GgufReaderErrors, TensorCountTruncated) {
  EXPECT_TRUE(fails_at(GgufBytes().raw("GGUF").u32(3).u32(0), 8, "tensor count", "file ends"));
}

TEST(GgufReaderErrors, MetadataCountTruncated) {
  EXPECT_TRUE(fails_at(GgufBytes().raw("GGUF").u32(3).i64(0).u8(1), 16, "metadata count", "file ends"));
}

TEST(GgufReaderErrors, TensorCountOutOfRange) {
  EXPECT_TRUE(fails_at(GgufBytes().header(int64_t{1} << 40, 0), 8, "tensor count", "cannot fit"));
  EXPECT_TRUE(fails_at(GgufBytes().header(-1, 0), 8, "tensor count", "-1 tensors cannot fit"));
}

TEST(GgufReaderErrors, MetadataCountOutOfRange) {
  EXPECT_TRUE(fails_at(GgufBytes().header(0, 1), 16, "metadata count", "1 entries cannot fit"));
  EXPECT_TRUE(fails_at(GgufBytes().header(0, std::numeric_limits<int64_t>::min()), 16, "metadata count", "cannot fit"));
}

// --- metadata ---

TEST(GgufReaderErrors, KeyLengthTruncated) {
  GgufBytes b;
  b.header(0, 2).kv_string("a", kFiller);
  const uint64_t at = b.pos();
  b.u8(5).u8(0);
  EXPECT_TRUE(fails_at(b, at, "metadata key #1", "file ends after 2 bytes, 8 needed"));
}

TEST(GgufReaderErrors, KeyLongerThanFile) {
  GgufBytes b;
  b.header(0, 1).u64(1000).raw("abc").u32(4).u32(1).zeros(8);
  EXPECT_TRUE(fails_at(b, 24, "metadata key #0", "string length 1000 exceeds the"));
}

TEST(GgufReaderErrors, EmptyKey) {
  GgufBytes b;
  b.header(0, 1).kv_string("", kFiller);
  EXPECT_TRUE(fails_at(b, 24, "metadata key #0", "empty key"));
}

TEST(GgufReaderErrors, DuplicateKey) {
  GgufBytes b;
  b.header(0, 2).kv_string("general.name", "a");
  const uint64_t at = b.pos();
  b.kv_string("general.name", "b");
  EXPECT_TRUE(fails_at(b, at, "metadata key 'general.name'", "duplicate key"));
}

TEST(GgufReaderErrors, ValueTypeTruncated) {
  GgufBytes b;
  b.header(0, 1).str("a.key.long.enough");
  const uint64_t at = b.pos();
  b.u8(4).u8(0);
  EXPECT_TRUE(fails_at(b, at, "metadata 'a.key.long.enough' type", "file ends after 2 bytes, 4 needed"));
}

TEST(GgufReaderErrors, UnknownValueType) {
  GgufBytes b;
  b.header(0, 1).str("key");
  const uint64_t at = b.pos();
  b.u32(13).u64(0);
  EXPECT_TRUE(fails_at(b, at, "metadata 'key' type", "unknown value type 13"));
}

// Every fixed-size scalar, cut one byte short.
TEST(GgufReaderErrors, ScalarValueTruncated) {
  constexpr std::pair<ValueType, size_t> kScalars[] = {
      {ValueType::kU8, 1},  {ValueType::kI8, 1},  {ValueType::kU16, 2}, {ValueType::kI16, 2},
      {ValueType::kU32, 4}, {ValueType::kI32, 4}, {ValueType::kF32, 4}, {ValueType::kBool, 1},
      {ValueType::kU64, 8}, {ValueType::kI64, 8}, {ValueType::kF64, 8}, {ValueType::kString, 8},
  };
  for (const auto& [type, size] : kScalars) {
    SCOPED_TRACE(std::string(value_type_name(type)));
    GgufBytes b;
    b.header(0, 1).str("key.long.enough").u32(static_cast<uint32_t>(type));
    const uint64_t at = b.pos();
    b.zeros(size - 1);
    EXPECT_TRUE(fails_at(b, at, "metadata 'key.long.enough'",
                         fmt::format("file ends after {} bytes, {} needed", size - 1, size)));
  }
}

TEST(GgufReaderErrors, BoolNeitherZeroNorOne) {
  GgufBytes b;
  b.header(0, 1).str("flag.long.enough").u32(7);
  const uint64_t at = b.pos();
  b.u8(2);
  EXPECT_TRUE(fails_at(b, at, "metadata 'flag.long.enough'", "bool value 2 is neither 0 nor 1"));
}

TEST(GgufReaderErrors, StringValueLongerThanFile) {
  GgufBytes b;
  b.header(0, 1).str("name").u32(8);
  const uint64_t at = b.pos();
  b.u64(std::numeric_limits<uint64_t>::max()).raw("abc");
  EXPECT_TRUE(fails_at(b, at, "metadata 'name'", "string length 18446744073709551615 exceeds the 3 bytes left"));
}

TEST(GgufReaderErrors, ArraysNestedTooDeep) {
  GgufBytes b;
  b.header(0, 1).str("deep").u32(9);
  const uint64_t value_at = b.pos();
  for (int level = 0; level < kMaxArrayDepth; ++level) b.u32(9).u64(1);  // an array holding one array
  b.u32(0).u64(0);                                                       // the innermost, empty
  EXPECT_TRUE(fails_at(b, value_at + uint64_t{12} * kMaxArrayDepth, "metadata 'deep'", "nested deeper than 4 levels"));
}

TEST(GgufReaderErrors, ArrayElementTypeTruncated) {
  GgufBytes b;
  b.header(0, 1).str("array.key.long.enough").u32(9);
  const uint64_t at = b.pos();
  b.u8(0).u8(0);
  EXPECT_TRUE(fails_at(b, at, "metadata 'array.key.long.enough'", "file ends after 2 bytes, 4 needed"));
}

TEST(GgufReaderErrors, UnknownArrayElementType) {
  GgufBytes b;
  b.header(0, 1).str("arr").u32(9);
  const uint64_t at = b.pos();
  b.u32(77).u64(0);
  EXPECT_TRUE(fails_at(b, at, "metadata 'arr'", "unknown array element type 77"));
}

TEST(GgufReaderErrors, ArrayCountTruncated) {
  GgufBytes b;
  b.header(0, 1).str("array.key.long").u32(9).u32(0);
  const uint64_t at = b.pos();
  b.u32(1);
  EXPECT_TRUE(fails_at(b, at, "metadata 'array.key.long'", "file ends after 4 bytes, 8 needed"));
}

TEST(GgufReaderErrors, ArrayCountLargerThanFile) {
  GgufBytes b;
  b.header(0, 1).str("arr").u32(9).u32(4);
  const uint64_t at = b.pos();
  b.u64(uint64_t{1} << 61).u32(1).u32(2);
  EXPECT_TRUE(fails_at(b, at, "metadata 'arr'", "array of 2305843009213693952 u32 elements cannot fit in the 8"));
}

TEST(GgufReaderErrors, StringArrayElementLongerThanFile) {
  GgufBytes b;
  b.header(0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(2).str("ok");
  const uint64_t at = b.pos();
  b.u64(100).raw("short");
  EXPECT_TRUE(fails_at(b, at, "metadata 'tokenizer.ggml.tokens'", "string length 100 exceeds the 5 bytes left"));
}

TEST(GgufReaderErrors, NestedArrayCountTruncated) {
  GgufBytes b;
  b.header(0, 1).str("nested").u32(9).u32(9).u64(2);
  b.u32(10).u64(1).u64(42);  // first inner array: one u64
  b.u32(10);                 // second: its count is missing
  const uint64_t at = b.pos();
  b.u32(0);
  EXPECT_TRUE(fails_at(b, at, "metadata 'nested'", "file ends after 4 bytes, 8 needed"));
}

TEST(GgufReaderErrors, AlignmentNotU32) {
  GgufBytes b;
  b.header(0, 2).kv_string("general.name", kFiller).str("general.alignment");
  const uint64_t at = b.pos();
  b.u32(10).u64(64);
  EXPECT_TRUE(fails_at(b, at, "metadata 'general.alignment'", "must be a u32, found u64"));
}

TEST(GgufReaderErrors, AlignmentNotPowerOfTwo) {
  for (uint32_t bad : {0u, 3u, 48u, 0x80000001u}) {
    SCOPED_TRACE(bad);
    GgufBytes b;
    b.header(0, 1).str("general.alignment").u32(4);
    const uint64_t at = b.pos();
    b.u32(bad);
    EXPECT_TRUE(fails_at(b, at, "metadata 'general.alignment'", fmt::format("{} is not a power of two", bad)));
  }
}

// --- tensor infos ---

// A header for `n_tensors` tensors whose one metadata entry makes the file long enough for the count check.
GgufBytes with_tensors(int64_t n_tensors) {
  GgufBytes b;
  b.header(n_tensors, 1).kv_string("general.name", kFiller);
  return b;
}

TEST(GgufReaderErrors, TensorNameLongerThanFile) {
  GgufBytes b = with_tensors(1);
  const uint64_t at = b.pos();
  b.u64(1 << 20).raw("blk");
  EXPECT_TRUE(fails_at(b, at, "tensor info #0 name", "string length 1048576 exceeds"));
}

TEST(GgufReaderErrors, EmptyTensorName) {
  GgufBytes b = with_tensors(1);
  const uint64_t at = b.pos();
  b.tensor("", {4}, 0, 0).pad_to(32).zeros(16);
  EXPECT_TRUE(fails_at(b, at, "tensor info #0", "empty tensor name"));
}

TEST(GgufReaderErrors, TensorNameTooLong) {
  GgufBytes b = with_tensors(1);
  const uint64_t at = b.pos();
  b.tensor(std::string(64, 'n'), {4}, 0, 0).pad_to(32).zeros(16);
  EXPECT_TRUE(fails_at(b, at, "tensor info #0", "tensor name of 64 bytes is longer than 63"));
}

TEST(GgufReaderErrors, DimensionCountTruncated) {
  GgufBytes b = with_tensors(1);
  b.str("w");
  const uint64_t at = b.pos();
  b.u8(1);
  EXPECT_TRUE(fails_at(b, at, "tensor 'w' n_dims", "file ends after 1 bytes, 4 needed"));
}

TEST(GgufReaderErrors, DimensionCountOutOfRange) {
  for (uint32_t n_dims : {5u, 0xffffffffu}) {
    SCOPED_TRACE(n_dims);
    GgufBytes b = with_tensors(1);
    b.str("w");
    const uint64_t at = b.pos();
    b.u32(n_dims).zeros(64);
    EXPECT_TRUE(fails_at(b, at, "tensor 'w'", fmt::format("n_dims {} is more than 4", n_dims)));
  }
}

TEST(GgufReaderErrors, DimensionTruncated) {
  GgufBytes b = with_tensors(1);
  b.str("w").u32(2).i64(4);
  const uint64_t at = b.pos();
  b.u32(0);
  EXPECT_TRUE(fails_at(b, at, "tensor 'w' ne[1]", "file ends after 4 bytes, 8 needed"));
}

TEST(GgufReaderErrors, NegativeDimension) {
  GgufBytes b = with_tensors(1);
  b.str("w").u32(2).i64(4);
  const uint64_t at = b.pos();
  b.i64(-3).u32(0).u64(0).pad_to(32).zeros(64);
  EXPECT_TRUE(fails_at(b, at, "tensor 'w' ne[1]", "dimension is negative (-3)"));
}

TEST(GgufReaderErrors, ElementCountOverflow) {
  GgufBytes b = with_tensors(1);
  b.str("w").u32(3).i64(int64_t{1} << 32);
  const uint64_t at = b.pos();
  b.i64(int64_t{1} << 31).i64(2).u32(0).u64(0);
  EXPECT_TRUE(fails_at(b, at, "tensor 'w' ne[1]", "element count of [4294967296, 2147483648] overflows"));
}

// An empty tensor whose other dimensions multiply past int64 would overflow any code that counts its rows.
TEST(GgufReaderErrors, ElementCountOverflowBehindZeroDimension) {
  GgufBytes b = with_tensors(1);
  b.str("w").u32(3).i64(0).i64(int64_t{1} << 40);
  const uint64_t at = b.pos();
  b.i64(int64_t{1} << 40).u32(0).u64(0);
  EXPECT_TRUE(fails_at(b, at, "tensor 'w' ne[2]", "overflows a signed 64-bit count"));
}

TEST(GgufReaderErrors, TensorTypeTruncated) {
  GgufBytes b = with_tensors(1);
  b.str("w").u32(1).i64(4);
  const uint64_t at = b.pos();
  b.u8(0);
  EXPECT_TRUE(fails_at(b, at, "tensor 'w' type", "file ends after 1 bytes, 4 needed"));
}

TEST(GgufReaderErrors, UnknownTensorType) {
  for (uint32_t type : {4u, 5u, 31u, 40u, 0xffffffffu}) {
    SCOPED_TRACE(type);
    GgufBytes b = with_tensors(1);
    b.str("w").u32(1).i64(32);
    const uint64_t at = b.pos();
    b.u32(type).u64(0).pad_to(32).zeros(64);
    EXPECT_TRUE(fails_at(b, at, "tensor 'w'", fmt::format("unknown tensor type {}", type)));
  }
}

TEST(GgufReaderErrors, RowNotAMultipleOfTheBlock) {
  GgufBytes b = with_tensors(1);
  b.str("w");
  const uint64_t at = b.pos();
  b.u32(2).i64(33).i64(2).u32(8).u64(0).pad_to(32).zeros(256);
  EXPECT_TRUE(fails_at(b, at, "tensor 'w'", "ne[0] = 33 is not a multiple of the q8_0 block size 32"));
}

TEST(GgufReaderErrors, ByteSizeOverflow) {
  GgufBytes b = with_tensors(1);
  b.str("w");
  const uint64_t at = b.pos();
  b.u32(1).i64(int64_t{1} << 62).u32(0).u64(0).pad_to(32);
  EXPECT_TRUE(fails_at(b, at, "tensor 'w'", "byte size of 4611686018427387904 f32 elements overflows"));
}

TEST(GgufReaderErrors, OffsetTruncated) {
  GgufBytes b = with_tensors(1);
  b.str("w").u32(1).i64(4).u32(0);
  const uint64_t at = b.pos();
  b.u32(0);
  EXPECT_TRUE(fails_at(b, at, "tensor 'w' offset", "file ends after 4 bytes, 8 needed"));
}

TEST(GgufReaderErrors, DuplicateTensorName) {
  GgufBytes b = with_tensors(2);
  b.tensor("w", {8}, 0, 0);
  const uint64_t at = b.pos();
  b.tensor("w", {8}, 0, 32).pad_to(32).zeros(64);
  EXPECT_TRUE(fails_at(b, at, "tensor 'w'", "duplicate tensor name (tensor info #0 has it too)"));
}

// --- data section ---

TEST(GgufReaderErrors, FileEndsInsideDataPadding) {
  GgufBytes b = with_tensors(1);
  b.tensor("w", {0}, 0, 0);
  ASSERT_NE(b.pos() % 32, 0u);
  EXPECT_TRUE(fails_at(b, b.pos(), "data section", "file ends inside the padding"));
}

// Where the offset field of a one-dimensional tensor named `name` lies, given where its info starts.
uint64_t offset_field(uint64_t info_at, const std::string& name) { return info_at + 8 + name.size() + 4 + 8 + 4; }

TEST(GgufReaderErrors, UnalignedTensorOffset) {
  GgufBytes b = with_tensors(1);
  const uint64_t at = b.pos();
  b.tensor("w", {4}, 0, 4).pad_to(32).zeros(64);
  EXPECT_TRUE(fails_at(b, offset_field(at, "w"), "tensor 'w'", "data offset 4 is not a multiple of the alignment 32"));
}

TEST(GgufReaderErrors, UnalignedTensorOffsetUnderCustomAlignment) {
  GgufBytes b;
  b.header(1, 2).kv_string("general.name", kFiller).str("general.alignment").u32(4).u32(64);
  const uint64_t at = b.pos();
  b.tensor("w", {4}, 0, 32).pad_to(64).zeros(128);
  EXPECT_TRUE(fails_at(b, offset_field(at, "w"), "tensor 'w'", "data offset 32 is not a multiple of the alignment 64"));
}

TEST(GgufReaderErrors, TensorDataPastEndOfFile) {
  GgufBytes b = with_tensors(1);
  const uint64_t at = b.pos();
  b.tensor("w", {16}, 0, 0).pad_to(32).zeros(63);
  EXPECT_TRUE(fails_at(b, offset_field(at, "w"), "tensor 'w'", "data [0, +64) lies outside the 63 bytes"));
}

TEST(GgufReaderErrors, TensorOffsetWrapsAround) {
  GgufBytes b = with_tensors(1);
  const uint64_t at = b.pos();
  b.tensor("w", {16}, 0, uint64_t{0} - 32).pad_to(32).zeros(64);
  EXPECT_TRUE(fails_at(b, offset_field(at, "w"), "tensor 'w'", "data [18446744073709551584, +64) lies outside"));
}

TEST(GgufReaderErrors, OverlappingTensors) {
  GgufBytes b = with_tensors(2);
  b.tensor("a", {16}, 0, 0);
  const uint64_t at = b.pos();
  b.tensor("b", {8}, 0, 32).pad_to(32).zeros(96);
  EXPECT_TRUE(fails_at(b, at, "tensor 'b'", "data [32, +32) overlaps tensor 'a' [0, +64)"));
}

// A long tensor overlapping one further on, with two empty tensors sorting between them: comparing
// only neighbours would miss it.
TEST(GgufReaderErrors, OverlapHiddenBehindShorterTensors) {
  GgufBytes b = with_tensors(4);
  b.tensor("long", {64}, 0, 0);    // [0, 256)
  b.tensor("empty", {0}, 0, 32);   // nothing
  b.tensor("empty2", {0}, 0, 64);  // nothing either
  const uint64_t at = b.pos();
  b.tensor("late", {8}, 0, 128);  // [128, 160) inside "long"
  b.pad_to(32).zeros(256);
  EXPECT_TRUE(fails_at(b, at, "tensor 'late'", "overlaps tensor 'long' [0, +256)"));
}

}  // namespace
}  // namespace sy::gguf
