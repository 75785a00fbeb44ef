// Every conformance model (written by llama.cpp's tools) read, written back with our writer and re-read must
// come back identical: the same metadata in the same order, the same tensors with the same bytes. The files
// llama.cpp wrote use the same layout rules as ours, so the rewrite is also byte-for-byte the original.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "core/mapped_file.h"
#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "support/test_support.h"

namespace sy::gguf {
namespace {

// Streams every tensor of `in` into a new file, in chunks that do not line up with tensor boundaries.
Status rewrite(const File& in, const std::filesystem::path& path) {
  Writer w(in.alignment());
  for (const auto& [key, value] : in.metadata()) w.set(key, value);
  for (const auto& t : in.tensors()) {
    TensorDecl d{t.name, t.type, std::vector<int64_t>(t.ne.begin(), t.ne.begin() + t.n_dims)};
    if (auto st = w.add_tensor(std::move(d)); !st) return st;
  }
  if (auto st = w.begin(path); !st) return st;
  constexpr size_t kChunk = 4093;
  for (const auto& t : in.tensors())
    for (size_t at = 0; at < t.data.size(); at += kChunk)
      if (auto st = w.write_tensor_data(t.data.subspan(at, std::min(kChunk, t.data.size() - at))); !st) return st;
  return w.finish();
}

TEST(GgufRoundTrip, EveryConformanceModel) {
  const auto models = sy::test::conformance_models();
  ASSERT_GE(models.size(), 19u);
  const auto dir = sy::test::scratch_dir("gguf_roundtrip");
  for (const auto& model : models) {
    SCOPED_TRACE(model.filename().string());
    auto original = File::open(model);
    ASSERT_TRUE(original) << original.error().message;
    const auto copy_path = dir / model.filename();
    ASSERT_TRUE(rewrite(*original, copy_path));
    auto copy = File::open(copy_path);
    ASSERT_TRUE(copy) << copy.error().message;

    EXPECT_EQ(copy->alignment(), original->alignment());
    ASSERT_EQ(copy->metadata().size(), original->metadata().size());
    for (size_t i = 0; i < original->metadata().size(); ++i) {
      EXPECT_EQ(copy->metadata()[i].first, original->metadata()[i].first);
      EXPECT_TRUE(copy->metadata()[i].second == original->metadata()[i].second) << original->metadata()[i].first;
    }
    ASSERT_EQ(copy->tensors().size(), original->tensors().size());
    for (size_t i = 0; i < original->tensors().size(); ++i) {
      const TensorInfo& a = original->tensors()[i];
      const TensorInfo& b = copy->tensors()[i];
      EXPECT_EQ(b.name, a.name);
      EXPECT_EQ(b.type, a.type);
      EXPECT_EQ(b.n_dims, a.n_dims);
      EXPECT_EQ(b.ne, a.ne);
      EXPECT_EQ(b.offset, a.offset) << a.name;
      ASSERT_EQ(b.data.size(), a.data.size());
      EXPECT_TRUE(a.data.empty() || std::memcmp(a.data.data(), b.data.data(), a.data.size()) == 0) << a.name;
    }
    // Both files are mapped already; compare them whole through fresh mappings (cheap even under ASan).
    auto original_bytes = MappedFile::open(model);
    auto copy_bytes = MappedFile::open(copy_path);
    ASSERT_TRUE(original_bytes && copy_bytes);
    ASSERT_EQ(copy_bytes->bytes().size(), original_bytes->bytes().size());
    EXPECT_EQ(std::memcmp(copy_bytes->bytes().data(), original_bytes->bytes().data(), copy_bytes->bytes().size()), 0);
    std::filesystem::remove(copy_path);
  }
}

}  // namespace
}  // namespace sy::gguf
