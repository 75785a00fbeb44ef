// The streaming GGUF writer: what it writes reads back identically (every value type, nested arrays, custom
// alignments, data fed in odd chunks), what it refuses it refuses before creating anything, and an abandoned
// or failed write never leaves a file under the final name.
#include "format/gguf_writer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <numeric>

#include "format/gguf_reader.h"
#include "support/test_support.h"

namespace sy::gguf {
namespace {

// Deterministic bytes for a tensor: different in every tensor and every position.
std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed * size_t{31} + i * 7 + (i >> 8));
  return v;
}

void set_every_value_type(Writer& w) {
  w.set("u8", Value(uint8_t{255}));
  w.set("i8", Value(int8_t{-128}));
  w.set("u16", Value(uint16_t{65535}));
  w.set("i16", Value(int16_t{-32768}));
  w.set("u32", Value(uint32_t{4294967295u}));
  w.set("i32", Value(int32_t{-2147483647 - 1}));
  w.set("f32", Value(-0.0f));
  w.set("bool.false", Value(false));
  w.set("bool.true", Value(true));
  w.set("string", Value("multi\nline \xe2\x9c\x93"));
  w.set("string.empty", Value(""));
  w.set("u64", Value(uint64_t{18446744073709551615ull}));
  w.set("i64", Value(int64_t{-9223372036854775807ll - 1}));
  w.set("f64", Value(6.02214076e23));
  w.set("a.u8", make_array<uint8_t>({0, 255}));
  w.set("a.i8", make_array<int8_t>({-128, 127}));
  w.set("a.u16", make_array<uint16_t>({1, 65535}));
  w.set("a.i16", make_array<int16_t>({-32768, 1}));
  w.set("a.u32", make_array<uint32_t>({0, 4294967295u}));
  w.set("a.i32", make_array<int32_t>({-1, 1}));
  w.set("a.f32", make_array<float>({1e-30f, 3.5f}));
  w.set("a.bool", make_array<bool>({true, false, true}));
  w.set("a.string", make_string_array({"", "b", std::string(1000, 'c')}));
  w.set("a.u64", make_array<uint64_t>({1, 2, 3}));
  w.set("a.i64", make_array<int64_t>({-1}));
  w.set("a.f64", make_array<double>({-0.5}));
  w.set("a.empty", make_array<float>({}));
}

// Arrays of arrays down to the deepest level the format allows here, with mixed inner element types.
Value nested_arrays() {
  const Array level3 = make_array_of_arrays({make_array<uint16_t>({1, 2}), make_string_array({"deep"})});
  const Array level2 = make_array_of_arrays({level3, Array(ValueType::kArray)});
  return make_array_of_arrays({level2, make_array<double>({1.0})});  // a sibling of another type is fine
}

struct Written {
  std::vector<TensorDecl> decls;
  std::vector<std::vector<uint8_t>> data;
};

// Declares `decls`, writes their pattern bytes in chunks of `chunk` bytes across tensor boundaries.
Status write_file(Writer& w, const std::filesystem::path& path, Written& out, size_t chunk) {
  for (const auto& d : out.decls)
    if (auto st = w.add_tensor(d); !st) return st;
  if (auto st = w.begin(path); !st) return st;
  std::vector<uint8_t> all;
  out.data.clear();
  for (size_t i = 0; i < out.decls.size(); ++i) {
    uint64_t n = 1;
    for (int64_t d : out.decls[i].ne) n *= static_cast<uint64_t>(d);
    out.data.push_back(pattern(row_bytes(out.decls[i].type, n), static_cast<uint8_t>(i)));
    all.insert(all.end(), out.data.back().begin(), out.data.back().end());
  }
  for (size_t at = 0; at < all.size(); at += chunk)
    if (auto st = w.write_tensor_data(std::span(all).subspan(at, std::min(chunk, all.size() - at))); !st) return st;
  return w.finish();
}

Written several_tensors() {
  Written w;
  w.decls = {
      {"token_embd.weight", TensorType::kF32, {5, 3}},
      {"blk.0.ffn_gate_exps.weight", TensorType::kQ8_0, {64, 3, 4}},
      {"empty.weight", TensorType::kF16, {0}},
      {"blk.0.attn_q.weight", TensorType::kQ4_K, {256, 2}},
      {"blk.0.ffn_down_exps.weight", TensorType::kMXFP4, {32, 2, 1, 3}},
      {"output_norm.weight", TensorType::kBF16, {7}},
      {"scalar", TensorType::kF32, {}},
      {"last.empty", TensorType::kF32, {4, 0}},
  };
  return w;
}

void expect_tensors_read_back(const File& f, const Written& w, uint32_t alignment) {
  ASSERT_EQ(f.tensors().size(), w.decls.size());
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  for (size_t i = 0; i < w.decls.size(); ++i) {
    SCOPED_TRACE(w.decls[i].name);
    const TensorInfo& t = f.tensors()[i];  // declaration order is file order
    EXPECT_EQ(t.name, w.decls[i].name);
    EXPECT_EQ(t.type, w.decls[i].type);
    ASSERT_EQ(t.n_dims, w.decls[i].ne.size());
    for (uint32_t d = 0; d < t.n_dims; ++d) EXPECT_EQ(t.ne[d], w.decls[i].ne[d]);
    EXPECT_EQ(t.offset % alignment, 0u);
    EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), w.data[i].begin(), w.data[i].end()));
  }
}

TEST(GgufWriter, RoundTripsEveryValueTypeAndNestedArrays) {
  const auto path = sy::test::scratch_dir("gguf_writer_values") / "values.gguf";
  Writer w;
  set_every_value_type(w);
  w.set("nested", nested_arrays());
  Written tensors = several_tensors();
  ASSERT_TRUE(write_file(w, path, tensors, 1 << 20));
  auto f = File::open(path);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->find(kAlignmentKey), nullptr);  // the default alignment is not written

  Writer expected;  // the same metadata again, to compare against in order
  set_every_value_type(expected);
  expected.set("nested", nested_arrays());
  Written unused;
  const auto path2 = path.parent_path() / "again.gguf";
  ASSERT_TRUE(write_file(expected, path2, unused, 1));
  auto again = File::open(path2);
  ASSERT_TRUE(again);
  ASSERT_EQ(f->metadata().size(), again->metadata().size());
  EXPECT_EQ(f->metadata(), again->metadata());
  EXPECT_EQ(*f->find("nested"), nested_arrays());
  EXPECT_EQ(*f->find("a.bool"), Value(make_array<bool>({true, false, true})));
  EXPECT_EQ(f->find("f32")->type(), ValueType::kF32);
  EXPECT_TRUE(std::signbit(std::get<float>(f->find("f32")->data)));  // -0.0 keeps its sign
  EXPECT_EQ(*f->find("string"), Value("multi\nline \xe2\x9c\x93"));
  expect_tensors_read_back(*f, tensors, kDefaultAlignment);
}

TEST(GgufWriter, NonDefaultAlignments) {
  for (uint32_t alignment : {1u, 8u, 64u, 4096u}) {
    SCOPED_TRACE(alignment);
    const auto path = sy::test::scratch_dir("gguf_writer_align") / "a.gguf";
    Writer w(alignment);
    w.set("general.name", Value("aligned"));
    Written tensors = several_tensors();
    ASSERT_TRUE(write_file(w, path, tensors, 1000));
    auto f = File::open(path);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->alignment(), alignment);
    if (alignment == kDefaultAlignment) continue;
    ASSERT_NE(f->find(kAlignmentKey), nullptr);
    EXPECT_EQ(*f->find(kAlignmentKey), Value(alignment));
    expect_tensors_read_back(*f, tensors, alignment);
  }
}

// general.alignment in the metadata (as copied from a file being rewritten) sets the layout.
TEST(GgufWriter, AlignmentFromMetadata) {
  const auto path = sy::test::scratch_dir("gguf_writer_align_key") / "a.gguf";
  Writer w;
  w.set(std::string(kAlignmentKey), Value(uint32_t{128}));
  Written tensors = several_tensors();
  ASSERT_TRUE(write_file(w, path, tensors, 77));
  EXPECT_EQ(w.alignment(), 128u);
  auto f = File::open(path);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->alignment(), 128u);
  expect_tensors_read_back(*f, tensors, 128);
}

TEST(GgufWriter, DataInOddChunkSizes) {
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, size_t{33}, size_t{255}, size_t{4097}}) {
    SCOPED_TRACE(chunk);
    const auto path = sy::test::scratch_dir("gguf_writer_chunks") / "c.gguf";
    Writer w(64);
    Written tensors = several_tensors();
    ASSERT_TRUE(write_file(w, path, tensors, chunk));
    auto f = File::open(path);
    ASSERT_TRUE(f) << f.error().message;
    expect_tensors_read_back(*f, tensors, 64);
  }
}

TEST(GgufWriter, SetTwiceKeepsThePositionAndTakesTheNewValue) {
  const auto path = sy::test::scratch_dir("gguf_writer_set") / "s.gguf";
  Writer w;
  w.set("a", Value(1));
  w.set("b", Value(2));
  w.set("a", Value("replaced"));
  Written none;
  ASSERT_TRUE(write_file(w, path, none, 1));
  auto f = File::open(path);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].first, "a");
  EXPECT_EQ(f->metadata()[0].second, Value("replaced"));
}

TEST(GgufWriter, CurrentTensorAdvancesAndSkipsEmptyTensors) {
  const auto path = sy::test::scratch_dir("gguf_writer_current") / "c.gguf";
  Writer w;
  ASSERT_TRUE(w.add_tensor({"e0", TensorType::kF32, {0}}));
  ASSERT_TRUE(w.add_tensor({"a", TensorType::kF32, {2}}));
  ASSERT_TRUE(w.add_tensor({"e1", TensorType::kF32, {0}}));
  ASSERT_TRUE(w.add_tensor({"b", TensorType::kF32, {1}}));
  EXPECT_EQ(w.tensor_count(), 4u);
  ASSERT_TRUE(w.begin(path));
  EXPECT_EQ(w.current_tensor(), 1u);
  const std::vector<uint8_t> bytes(12, 0xab);
  ASSERT_TRUE(w.write_tensor_data(std::span(bytes).first(8)));
  EXPECT_EQ(w.current_tensor(), 3u);
  ASSERT_TRUE(w.write_tensor_data(std::span(bytes).first(4)));
  EXPECT_EQ(w.current_tensor(), 4u);
  ASSERT_TRUE(w.finish());
}

// --- errors ---

testing::AssertionResult fails_with(const Status& st, const std::string& detail) {
  if (st) return testing::AssertionFailure() << "succeeded";
  if (st.error().message.find(detail) == std::string::npos)
    return testing::AssertionFailure() << "message '" << st.error().message << "' lacks '" << detail << "'";
  return testing::AssertionSuccess();
}

TEST(GgufWriterErrors, TooManyBytes) {
  const auto dir = sy::test::scratch_dir("gguf_writer_too_many");
  {
    Writer w;
    ASSERT_TRUE(w.add_tensor({"a", TensorType::kF32, {2}}));
    ASSERT_TRUE(w.begin(dir / "t.gguf"));
    const std::vector<uint8_t> bytes(11, 1);
    EXPECT_TRUE(fails_with(w.write_tensor_data(bytes), "t.gguf: 3 bytes beyond the last tensor"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "t.gguf"));
  EXPECT_FALSE(std::filesystem::exists(dir / "t.gguf.partial"));
}

TEST(GgufWriterErrors, UnfinishedTensorAtFinish) {
  const auto dir = sy::test::scratch_dir("gguf_writer_unfinished");
  {
    Writer w;
    ASSERT_TRUE(w.add_tensor({"a", TensorType::kF32, {2}}));
    ASSERT_TRUE(w.add_tensor({"b", TensorType::kQ8_0, {32}}));
    ASSERT_TRUE(w.begin(dir / "u.gguf"));
    const std::vector<uint8_t> bytes(8 + 10, 1);
    ASSERT_TRUE(w.write_tensor_data(bytes));
    EXPECT_TRUE(fails_with(w.finish(), "tensor 'b' has 10 of 34 bytes written"));
    EXPECT_FALSE(std::filesystem::exists(dir / "u.gguf"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "u.gguf.partial"));
}

TEST(GgufWriterErrors, AbandonedWriteLeavesNoFileAndKeepsAnOldOne) {
  const auto dir = sy::test::scratch_dir("gguf_writer_abandoned");
  {
    Writer w;
    ASSERT_TRUE(w.add_tensor({"a", TensorType::kF32, {1024}}));
    ASSERT_TRUE(w.begin(dir / "new.gguf"));
    ASSERT_TRUE(w.write_tensor_data(pattern(100, 1)));
    EXPECT_TRUE(std::filesystem::exists(dir / "new.gguf.partial"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "new.gguf"));
  EXPECT_FALSE(std::filesystem::exists(dir / "new.gguf.partial"));

  std::ofstream(dir / "old.gguf") << "previous contents";
  {
    Writer w;
    ASSERT_TRUE(w.begin(dir / "old.gguf"));
  }
  std::ifstream in(dir / "old.gguf");
  std::string contents;
  std::getline(in, contents);
  EXPECT_EQ(contents, "previous contents");
}

TEST(GgufWriterErrors, CallsOutOfOrder) {
  const auto dir = sy::test::scratch_dir("gguf_writer_order");
  Writer w;
  const std::vector<uint8_t> bytes(4, 0);
  EXPECT_TRUE(fails_with(w.write_tensor_data(bytes), "write_tensor_data() with no file open"));
  EXPECT_TRUE(fails_with(w.finish(), "finish() with no file open"));
  ASSERT_TRUE(w.begin(dir / "o.gguf"));
  EXPECT_TRUE(fails_with(w.add_tensor({"late", TensorType::kF32, {1}}), "tensor 'late' declared after begin()"));
  EXPECT_TRUE(fails_with(w.begin(dir / "p.gguf"), "begin() called twice"));
  ASSERT_TRUE(w.finish());
  EXPECT_TRUE(fails_with(w.finish(), "finish() with no file open"));
  EXPECT_TRUE(fails_with(w.begin(dir / "q.gguf"), "begin() called twice"));
  EXPECT_TRUE(File::open(dir / "o.gguf"));
}

TEST(GgufWriterErrors, BadTensorDeclarations) {
  Writer w;
  EXPECT_TRUE(fails_with(w.add_tensor({"", TensorType::kF32, {1}}), "tensor name '' must be 1..63 bytes"));
  EXPECT_TRUE(fails_with(w.add_tensor({std::string(64, 'x'), TensorType::kF32, {1}}), "must be 1..63 bytes"));
  EXPECT_TRUE(fails_with(w.add_tensor({"d5", TensorType::kF32, {1, 1, 1, 1, 1}}), "has 5 dimensions (at most 4)"));
  EXPECT_TRUE(fails_with(w.add_tensor({"q0", TensorType::kQ8_0, {}}), "tensor 'q0': ne[0] = 1 is not a multiple"));
  EXPECT_TRUE(fails_with(w.add_tensor({"t", static_cast<TensorType>(4), {1}}), "tensor 't' has unknown type 4"));
  EXPECT_TRUE(fails_with(w.add_tensor({"neg", TensorType::kF32, {2, -1}}), "tensor 'neg' has a negative dimension"));
  EXPECT_TRUE(fails_with(w.add_tensor({"big", TensorType::kF32, {int64_t{1} << 32, int64_t{1} << 32}}),
                         "tensor 'big' element count overflows"));
  EXPECT_TRUE(fails_with(w.add_tensor({"big0", TensorType::kF32, {0, int64_t{1} << 32, int64_t{1} << 32}}),
                         "tensor 'big0' element count overflows"));
  EXPECT_TRUE(fails_with(w.add_tensor({"q", TensorType::kQ4_K, {255}}), "ne[0] = 255 is not a multiple of 256"));
  EXPECT_TRUE(
      fails_with(w.add_tensor({"bytes", TensorType::kF64, {int64_t{1} << 62}}), "tensor 'bytes' byte size overflows"));
  ASSERT_TRUE(w.add_tensor({"ok", TensorType::kF32, {1}}));
  EXPECT_TRUE(fails_with(w.add_tensor({"ok", TensorType::kF16, {2}}), "duplicate tensor 'ok'"));
  EXPECT_EQ(w.tensor_count(), 1u);
}

// Tensors that each fit but together make a data section past 2^64 bytes.
TEST(GgufWriterErrors, DataSectionOverflow) {
  const auto dir = sy::test::scratch_dir("gguf_writer_section");
  Writer w;
  ASSERT_TRUE(w.add_tensor({"a", TensorType::kF64, {int64_t{1} << 60}}));  // 2^63 bytes
  ASSERT_TRUE(w.add_tensor({"b", TensorType::kF64, {int64_t{1} << 60}}));
  EXPECT_TRUE(fails_with(w.begin(dir / "o.gguf"), "tensor 'b': data section size overflows"));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

// Each of these is refused by begin() before any file is created.
TEST(GgufWriterErrors, BadMetadataAndAlignment) {
  const auto dir = sy::test::scratch_dir("gguf_writer_metadata");
  auto begin_fails = [&](Writer& w, const std::string& detail) {
    EXPECT_TRUE(fails_with(w.begin(dir / "m.gguf"), detail));
    EXPECT_TRUE(std::filesystem::is_empty(dir));
  };
  {
    Writer w(48);
    begin_fails(w, "alignment 48 is not a power of two");
  }
  {
    Writer w(0);
    begin_fails(w, "alignment 0 is not a power of two");
  }
  {
    Writer w;
    w.set(std::string(kAlignmentKey), Value(uint64_t{64}));
    begin_fails(w, "metadata 'general.alignment' must be a u32, not a u64");
  }
  {
    Writer w;
    w.set(std::string(kAlignmentKey), Value(uint32_t{24}));
    begin_fails(w, "metadata 'general.alignment' = 24 is not a power of two");
  }
  {
    Writer w(64);
    w.set(std::string(kAlignmentKey), Value(uint32_t{128}));
    begin_fails(w, "alignment 64 disagrees with metadata 'general.alignment' = 128");
  }
  {
    Writer w;
    w.set("", Value(1));
    begin_fails(w, "empty metadata key");
  }
  {
    // A mixed array cannot be built, so it cannot reach a file.
    Array mixed = make_array<int32_t>({1, 2});
    EXPECT_FALSE(mixed.push_back(Value("three")));
    EXPECT_EQ(mixed, make_array<int32_t>({1, 2}));
  }
  {
    Writer w;
    Value deep = make_array<uint8_t>({1});
    for (int i = 0; i < kMaxArrayDepth; ++i) deep = Value(make_array_of_arrays({*deep.as_array()}));
    w.set("deep", deep);
    begin_fails(w, "metadata 'deep': arrays nested deeper than 4 levels");
  }
}

TEST(GgufWriterErrors, CannotCreateTheFile) {
  const auto dir = sy::test::scratch_dir("gguf_writer_create");
  Writer w;
  const Status st = w.begin(dir / "no-such-dir" / "x.gguf");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kIo);
  EXPECT_NE(st.error().message.find("x.gguf.partial: cannot create"), std::string::npos) << st.error().message;
}

// Two writers open at once on one thread must not share a stdio buffer (they once did).
TEST(GgufWriter, TwoWritersAtOnce) {
  const auto dir = sy::test::scratch_dir("gguf_writer_two");
  Writer a;
  Writer b;
  ASSERT_TRUE(a.add_tensor({"x", TensorType::kI8, {3000}}));
  ASSERT_TRUE(b.add_tensor({"y", TensorType::kI8, {3000}}));
  ASSERT_TRUE(a.begin(dir / "a.gguf"));
  ASSERT_TRUE(b.begin(dir / "b.gguf"));
  const auto pa = pattern(3000, 1);
  const auto pb = pattern(3000, 2);
  for (size_t i = 0; i < 3000; i += 100) {
    ASSERT_TRUE(a.write_tensor_data(std::span(pa).subspan(i, 100)));
    ASSERT_TRUE(b.write_tensor_data(std::span(pb).subspan(i, 100)));
  }
  ASSERT_TRUE(a.finish());
  ASSERT_TRUE(b.finish());
  auto fa = File::open(dir / "a.gguf");
  auto fb = File::open(dir / "b.gguf");
  ASSERT_TRUE(fa && fb);
  EXPECT_TRUE(std::equal(pa.begin(), pa.end(), fa->tensors()[0].data.begin()));
  EXPECT_TRUE(std::equal(pb.begin(), pb.end(), fb->tensors()[0].data.begin()));
}

}  // namespace
}  // namespace sy::gguf
