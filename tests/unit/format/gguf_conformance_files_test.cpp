// Every conformance model must parse and match what its manifest says about it.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "format/gguf_reader.h"
#include "support/test_support.h"

namespace sy::gguf {
namespace {

TEST(GgufConformanceFiles, EveryModelParsesAndMatchesManifest) {
  std::ifstream in(test::conformance_dir() / "manifest.json");
  ASSERT_TRUE(in) << "missing " << (test::conformance_dir() / "manifest.json");
  const auto manifest = nlohmann::json::parse(in);
  const auto models = test::conformance_models();
  ASSERT_GE(models.size(), 19u);
  for (const auto& path : models) {
    SCOPED_TRACE(path.string());
    auto file = File::open(path);
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_EQ(file->version(), 3u);
    const std::string stem = path.stem().string();
    ASSERT_TRUE(manifest["models"].contains(stem));
    const auto& entry = manifest["models"][stem];
    const Value* arch = file->find("general.architecture");
    ASSERT_NE(arch, nullptr);
    ASSERT_NE(arch->as_string(), nullptr);
    EXPECT_EQ(*arch->as_string(), entry["arch"].get<std::string>());
    EXPECT_EQ(file->file_size(), entry["bytes"].get<uint64_t>());
    EXPECT_NE(file->find_tensor("token_embd.weight"), nullptr);
    for (const auto& t : file->tensors()) {
      EXPECT_EQ(t.data.size(), t.n_bytes);
      EXPECT_LE(file->data_offset() + t.offset + t.n_bytes, file->file_size());
    }
  }
}

}  // namespace
}  // namespace sy::gguf
