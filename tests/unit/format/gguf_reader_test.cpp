// What the GGUF reader accepts: every value type, arrays of every type and of arrays, both versions, a custom
// alignment, empty tensors, and tensor views that point straight into the bytes (no copies). The files are forged
// byte by byte so the reader is checked independently of the writer.
#include "format/gguf_reader.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_support.h"
#include "unit/format/gguf_bytes.h"

namespace sy::gguf {
namespace {

using test::GgufBytes;

// Metadata with one value of every type, arrays of every element type, and an array of arrays.
GgufBytes every_value_type(uint32_t version) {
  GgufBytes b;
  b.header(2, 27, version);
  b.str("u8").u32(0).u8(250);
  b.str("i8").u32(1).put<int8_t>(-7);
  b.str("u16").u32(2).put<uint16_t>(65535);
  b.str("i16").u32(3).put<int16_t>(-32768);
  b.str("u32").u32(4).u32(4000000000u);
  b.str("i32").u32(5).put<int32_t>(-123456789);
  b.str("f32").u32(6).put<float>(0.125f);
  b.str("bool").u32(7).u8(1);
  b.str("string").u32(8).str("héllo\nworld");
  b.str("u64").u32(10).u64(18446744073709551615ull);
  b.str("i64").u32(11).i64(-9223372036854775807ll - 1);
  b.str("f64").u32(12).put<double>(-1e300);
  b.str("a.u8").u32(9).u32(0).u64(3).u8(1).u8(2).u8(3);
  b.str("a.i8").u32(9).u32(1).u64(2).put<int8_t>(-1).put<int8_t>(1);
  b.str("a.u16").u32(9).u32(2).u64(1).put<uint16_t>(7);
  b.str("a.i16").u32(9).u32(3).u64(1).put<int16_t>(-7);
  b.str("a.u32").u32(9).u32(4).u64(2).u32(1).u32(2);
  b.str("a.i32").u32(9).u32(5).u64(1).put<int32_t>(-5);
  b.str("a.f32").u32(9).u32(6).u64(2).put<float>(1.5f).put<float>(-2.5f);
  b.str("a.bool").u32(9).u32(7).u64(2).u8(0).u8(1);
  b.str("a.string").u32(9).u32(8).u64(3).str("a").str("").str("ccc");
  b.str("a.u64").u32(9).u32(10).u64(1).u64(99);
  b.str("a.i64").u32(9).u32(11).u64(1).i64(-99);
  b.str("a.f64").u32(9).u32(12).u64(1).put<double>(3.25);
  b.str("a.empty").u32(9).u32(4).u64(0);
  // [[1, 2], ["x"], [[true]]]: arrays of arrays, each inner array with its own element type.
  b.str("a.nested").u32(9).u32(9).u64(3);
  b.u32(5).u64(2).put<int32_t>(1).put<int32_t>(2);
  b.u32(8).u64(1).str("x");
  b.u32(9).u64(1).u32(7).u64(1).u8(1);
  b.str("general.alignment").u32(4).u32(32);
  b.tensor("a.weight", {2, 3}, 0, 0);       // f32, 24 bytes
  b.tensor("b.weight", {32, 1, 2}, 8, 32);  // q8_0, 2 blocks of 34 bytes
  b.pad_to(32);
  for (int i = 0; i < 24 + 8 + 68; ++i) b.u8(static_cast<uint8_t>(i));
  return b;
}

void expect_every_value_type(const File& f) {
  ASSERT_EQ(f.metadata().size(), 27u);
  EXPECT_EQ(f.metadata()[0].first, "u8");  // file order is kept
  EXPECT_EQ(*f.find("u8"), Value(uint8_t{250}));
  EXPECT_EQ(*f.find("i8"), Value(int8_t{-7}));
  EXPECT_EQ(*f.find("u16"), Value(uint16_t{65535}));
  EXPECT_EQ(*f.find("i16"), Value(int16_t{-32768}));
  EXPECT_EQ(*f.find("u32"), Value(uint32_t{4000000000u}));
  EXPECT_EQ(*f.find("i32"), Value(int32_t{-123456789}));
  EXPECT_EQ(*f.find("f32"), Value(0.125f));
  EXPECT_EQ(*f.find("bool"), Value(true));
  EXPECT_EQ(*f.find("string"), Value("héllo\nworld"));
  EXPECT_EQ(*f.find("u64"), Value(uint64_t{18446744073709551615ull}));
  EXPECT_EQ(*f.find("i64"), Value(int64_t{-9223372036854775807ll - 1}));
  EXPECT_EQ(*f.find("f64"), Value(-1e300));
  EXPECT_EQ(*f.find("a.u8"), Value(make_array<uint8_t>({1, 2, 3})));
  EXPECT_EQ(*f.find("a.i8"), Value(make_array<int8_t>({-1, 1})));
  EXPECT_EQ(*f.find("a.u16"), Value(make_array<uint16_t>({7})));
  EXPECT_EQ(*f.find("a.i16"), Value(make_array<int16_t>({-7})));
  EXPECT_EQ(*f.find("a.u32"), Value(make_array<uint32_t>({1, 2})));
  EXPECT_EQ(*f.find("a.i32"), Value(make_array<int32_t>({-5})));
  EXPECT_EQ(*f.find("a.f32"), Value(make_array<float>({1.5f, -2.5f})));
  EXPECT_EQ(*f.find("a.bool"), Value(make_array<bool>({false, true})));
  EXPECT_EQ(*f.find("a.string"), Value(make_string_array({"a", "", "ccc"})));
  EXPECT_EQ(*f.find("a.u64"), Value(make_array<uint64_t>({99})));
  EXPECT_EQ(*f.find("a.i64"), Value(make_array<int64_t>({-99})));
  EXPECT_EQ(*f.find("a.f64"), Value(make_array<double>({3.25})));
  EXPECT_EQ(*f.find("a.empty"), Value(make_array<uint32_t>({})));
  const Array inner = make_array_of_arrays({make_array<bool>({true})});
  const Array nested = make_array_of_arrays({make_array<int32_t>({1, 2}), make_string_array({"x"}), inner});
  EXPECT_EQ(*f.find("a.nested"), Value(nested));
  EXPECT_EQ(f.find("missing"), nullptr);

  ASSERT_EQ(f.tensors().size(), 2u);
  const TensorInfo* a = f.find_tensor("a.weight");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->type, TensorType::kF32);
  EXPECT_EQ(a->n_dims, 2u);
  EXPECT_EQ(a->shape_string(), "[2, 3]");
  EXPECT_EQ(a->n_elements(), 6);
  EXPECT_EQ(a->n_bytes, 24u);
  const TensorInfo* b = f.find_tensor("b.weight");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->type, TensorType::kQ8_0);
  EXPECT_EQ((std::array<int64_t, 4>{32, 1, 2, 1}), b->ne);
  EXPECT_EQ(b->offset, 32u);
  EXPECT_EQ(b->n_bytes, 68u);
  EXPECT_EQ(b->data[0], 32);  // the forged data counts up from 0 at the data section's start
  EXPECT_EQ(f.find_tensor("c.weight"), nullptr);
}

TEST(GgufReader, ReadsEveryValueTypeInVersion3) {
  const GgufBytes b = every_value_type(3);
  auto f = File::parse(b.bytes(), "v3");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->version(), 3u);
  expect_every_value_type(*f);
}

// Version 2 has version 3's layout (only version 1 had 32-bit counts and lengths).
TEST(GgufReader, ReadsVersion2) {
  const GgufBytes b = every_value_type(2);
  auto f = File::parse(b.bytes(), "v2");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->version(), 2u);
  expect_every_value_type(*f);
}

TEST(GgufReader, TensorViewsPointIntoTheGivenBytes) {
  const GgufBytes b = every_value_type(3);
  auto f = File::parse(b.bytes(), "views");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->data_offset() % 32, 0u);
  for (const auto& t : f->tensors()) EXPECT_EQ(t.data.data(), b.bytes().data() + f->data_offset() + t.offset);
}

TEST(GgufReader, OpenMapsTheFileAndViewsSurviveAMove) {
  const GgufBytes b = every_value_type(3);
  const auto path = sy::test::scratch_dir("gguf_reader_open") / "file.gguf";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.bytes().data()), static_cast<std::streamsize>(b.bytes().size()));
  std::span<const uint8_t> view;
  File moved;
  {
    auto f = File::open(path);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->source(), path.string());
    EXPECT_EQ(f->file_size(), b.bytes().size());
    view = f->find_tensor("b.weight")->data;
    moved = std::move(*f);
  }
  // The mapping moved with the File, so the view still reads the file's bytes (ASan would flag an unmapped read).
  ASSERT_EQ(view.size(), 68u);
  for (size_t i = 0; i < view.size(); ++i) EXPECT_EQ(view[i], static_cast<uint8_t>(32 + i));
  EXPECT_EQ(moved.find_tensor("b.weight")->data.data(), view.data());
  expect_every_value_type(moved);
}

TEST(GgufReader, OpenReportsMissingAndUnreadableFiles) {
  const auto dir = sy::test::scratch_dir("gguf_reader_open_errors");
  auto missing = File::open(dir / "absent.gguf");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kIo);
  EXPECT_NE(missing.error().message.find("absent.gguf: cannot open"), std::string::npos) << missing.error().message;

  auto directory = File::open(dir);
  ASSERT_FALSE(directory);
  EXPECT_NE(directory.error().message.find("not a regular file"), std::string::npos) << directory.error().message;

  std::ofstream(dir / "empty.gguf").close();
  auto empty = File::open(dir / "empty.gguf");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("empty.gguf: offset 0: magic: file ends"), std::string::npos)
      << empty.error().message;
}

TEST(GgufReader, CustomAlignmentPlacesTheDataSection) {
  GgufBytes b;
  b.header(2, 1).str("general.alignment").u32(4).u32(256);
  b.tensor("x", {4}, 0, 0).tensor("y", {2}, 0, 256);
  ASSERT_LT(b.pos(), 256u);
  b.pad_to(256).zeros(256 + 8);
  auto f = File::parse(b.bytes(), "aligned");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->alignment(), 256u);
  EXPECT_EQ(f->data_offset(), 256u);
  EXPECT_EQ(f->find_tensor("y")->data.data(), b.bytes().data() + 512);
}

TEST(GgufReader, NoTensorsAndNoMetadata) {
  GgufBytes b;
  b.header(0, 0);
  auto f = File::parse(b.bytes(), "empty");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(f->metadata().empty());
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_EQ(f->data_offset(), 24u);  // nothing after the header: the data section would start past the end
  EXPECT_EQ(f->alignment(), kDefaultAlignment);
}

// n_dims 0 is a scalar: one element, as llama.cpp reads it.
TEST(GgufReader, ScalarTensor) {
  GgufBytes b;
  b.header(1, 0).tensor("scale", {}, 0, 0).pad_to(32).put<float>(2.5f);
  auto f = File::parse(b.bytes(), "scalar");
  ASSERT_TRUE(f) << f.error().message;
  const TensorInfo& t = f->tensors()[0];
  EXPECT_EQ(t.n_dims, 0u);
  EXPECT_EQ(t.n_elements(), 1);
  EXPECT_EQ(t.shape_string(), "[]");
  EXPECT_EQ(t.n_bytes, 4u);
}

// Empty tensors may share an offset with anything: they own no bytes.
TEST(GgufReader, EmptyTensorsAreAccepted) {
  GgufBytes b;
  b.header(3, 0);
  b.tensor("e1", {0}, 0, 0).tensor("w", {8}, 0, 0).tensor("e2", {0, 5}, 8, 32);
  b.pad_to(32).zeros(32);
  auto f = File::parse(b.bytes(), "empty-tensors");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->find_tensor("e2")->n_bytes, 0u);
  EXPECT_EQ(f->find_tensor("e2")->n_elements(), 0);
  EXPECT_EQ(f->find_tensor("w")->data.size(), 32u);
}

}  // namespace
}  // namespace sy::gguf
