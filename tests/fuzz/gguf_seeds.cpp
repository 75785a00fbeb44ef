#include "fuzz/gguf_seeds.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "format/gguf_reader.h"
#include "format/gguf_writer.h"

namespace sy::fuzz {
namespace {

using gguf::Array;
using gguf::Value;
using gguf::ValueType;

std::vector<uint8_t> slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes with `writer`, giving each tensor `fill`-patterned bytes, and returns the file's bytes.
Result<std::vector<uint8_t>> write_out(gguf::Writer& writer, const std::vector<gguf::TensorDecl>& tensors,
                                       const std::filesystem::path& path) {
  for (const auto& t : tensors)
    if (auto st = writer.add_tensor(t); !st) return tl::unexpected(st.error());
  if (auto st = writer.begin(path); !st) return tl::unexpected(st.error());
  for (const auto& t : tensors) {
    std::vector<uint8_t> bytes(row_bytes(t.type, t.ne.empty() ? 1 : t.ne[0]));  // no dimensions: a scalar
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 1);
    uint64_t rows = 1;
    for (size_t d = 1; d < t.ne.size(); ++d) rows *= static_cast<uint64_t>(t.ne[d]);
    for (uint64_t r = 0; r < rows; ++r)
      if (auto st = writer.write_tensor_data(bytes); !st) return tl::unexpected(st.error());
  }
  if (auto st = writer.finish(); !st) return tl::unexpected(st.error());
  return slurp(path);
}

// One of each value type, arrays of each, and arrays of arrays.
void set_every_value_type(gguf::Writer& w) {
  w.set("t.u8", Value(uint8_t{200}));
  w.set("t.i8", Value(int8_t{-100}));
  w.set("t.u16", Value(uint16_t{60000}));
  w.set("t.i16", Value(int16_t{-30000}));
  w.set("t.u32", Value(uint32_t{4000000000u}));
  w.set("t.i32", Value(int32_t{-2000000000}));
  w.set("t.f32", Value(1.5f));
  w.set("t.bool", Value(true));
  w.set("t.string", Value("hello"));
  w.set("t.u64", Value(uint64_t{1} << 60));
  w.set("t.i64", Value(int64_t{-1} << 60));
  w.set("t.f64", Value(-2.25));
  w.set("a.u8", gguf::make_array<uint8_t>({1, 2}));
  w.set("a.i8", gguf::make_array<int8_t>({-1, 2}));
  w.set("a.u16", gguf::make_array<uint16_t>({1, 2}));
  w.set("a.i16", gguf::make_array<int16_t>({-1, 2}));
  w.set("a.u32", gguf::make_array<uint32_t>({1, 2}));
  w.set("a.i32", gguf::make_array<int32_t>({-1, 2}));
  w.set("a.f32", gguf::make_array<float>({0.5f, -1.0f}));
  w.set("a.bool", gguf::make_array<bool>({true, false}));
  w.set("a.string", gguf::make_string_array({"a", "", "ccc"}));
  w.set("a.u64", gguf::make_array<uint64_t>({1, 2}));
  w.set("a.i64", gguf::make_array<int64_t>({-1, 2}));
  w.set("a.f64", gguf::make_array<double>({0.25, 8.0}));
  const Array nested =
      gguf::make_array_of_arrays({gguf::make_array<int32_t>({1, 2, 3}), gguf::make_array<int32_t>({})});
  w.set("a.nested", nested);
  w.set("a.empty", gguf::make_string_array({}));
}

// A copy of `value` whose arrays keep at most `max_items` items.
Value cut_arrays(const Value& value, size_t max_items) {
  const Array* a = value.as_array();
  if (a == nullptr) return value;
  Array out(a->elem_type());
  for (size_t i = 0; i < a->size() && i < max_items; ++i) {
    const bool ok = out.push_back(cut_arrays(a->at(i), max_items));
    (void)ok;  // same element type as the source array
  }
  return out;
}

Result<SeedInput> shrink_model(const std::filesystem::path& model, const std::filesystem::path& scratch) {
  auto file = gguf::File::open(model);
  if (!file) return tl::unexpected(file.error());
  gguf::Writer writer;
  for (const auto& [key, value] : file->metadata()) writer.set(key, cut_arrays(value, 8));
  std::vector<gguf::TensorDecl> tensors;
  for (const auto& t : file->tensors()) {
    gguf::TensorDecl d{t.name, t.type, {}};
    for (uint32_t i = 0; i < t.n_dims; ++i)
      d.ne.push_back(i == 0 ? traits(t.type).block_elems : std::min<int64_t>(t.ne[i], 2));
    tensors.push_back(std::move(d));
  }
  const std::string name = "shrunk-" + model.filename().string();
  auto bytes = write_out(writer, tensors, scratch / name);
  if (!bytes) return tl::unexpected(bytes.error());
  return SeedInput{name, std::move(*bytes)};
}

}  // namespace

Result<std::vector<SeedInput>> gguf_seed_inputs(const std::filesystem::path& scratch,
                                                const std::vector<std::filesystem::path>& conformance_models) {
  std::vector<SeedInput> seeds;
  {
    gguf::Writer w;
    auto bytes = write_out(w, {}, scratch / "empty.gguf");
    if (!bytes) return tl::unexpected(bytes.error());
    seeds.push_back({"synthetic-empty.gguf", std::move(*bytes)});
  }
  const std::vector<gguf::TensorDecl> tensors = {
      {"f32.weight", TensorType::kF32, {3, 2}},
      {"q8.weight", TensorType::kQ8_0, {32, 2, 1}},
      {"q4k.weight", TensorType::kQ4_K, {256}},
      {"empty.weight", TensorType::kF16, {0, 4}},
      {"mxfp4.weight", TensorType::kMXFP4, {32, 1, 1, 2}},
      {"scalar", TensorType::kF32, {}},
  };
  for (uint32_t alignment : {32u, 64u, 8u}) {
    gguf::Writer w(alignment);
    set_every_value_type(w);
    w.set("general.architecture", Value("test"));
    const std::string name = fmt::format("synthetic-all-types-align{}.gguf", alignment);
    auto bytes = write_out(w, tensors, scratch / name);
    if (!bytes) return tl::unexpected(bytes.error());
    seeds.push_back({name, *bytes});
    if (alignment == 32) {
      // Version 2 has the same layout as 3.
      (*bytes)[4] = 2;
      seeds.push_back({"synthetic-all-types-v2.gguf", std::move(*bytes)});
    }
  }
  for (const auto& model : conformance_models) {
    auto seed = shrink_model(model, scratch);
    if (!seed) return tl::unexpected(seed.error());
    seeds.push_back(std::move(*seed));
  }
  return seeds;
}

}  // namespace sy::fuzz
