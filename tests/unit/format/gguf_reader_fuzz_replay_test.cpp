// Replays the GGUF reader's fuzz target (tests/fuzz/gguf_reader_fuzz.cpp) on its seed corpus, on the smaller
// conformance models and on every input kept in tests/fuzz/regressions/gguf_reader/, so that a fixed finding
// stays fixed in every build, fuzzing or not. Also cuts and flips a seed deterministically: every prefix and
// every single-byte change of the header and metadata must give a clean result.
#include <gtest/gtest.h>

#include "format/gguf_reader.h"
#include "fuzz/gguf_seeds.h"
#include "support/test_support.h"

namespace sy::fuzz {
int gguf_reader(const uint8_t* data, size_t size);
}

namespace sy::gguf {
namespace {

// `scratch` must differ between tests: ctest runs them in parallel processes.
std::vector<fuzz::SeedInput> seeds(const std::string& scratch) {
  auto s = fuzz::gguf_seed_inputs(sy::test::scratch_dir(scratch), sy::test::conformance_models());
  EXPECT_TRUE(s) << s.error().message;
  return s ? *s : std::vector<fuzz::SeedInput>{};
}

TEST(GgufReaderFuzzReplay, SeedCorpusParsesCleanly) {
  const auto inputs = seeds("gguf_fuzz_seeds_parse");
  EXPECT_GE(inputs.size(), 5u + sy::test::conformance_models().size());
  for (const auto& seed : inputs) {
    SCOPED_TRACE(seed.name);
    // Seeds are valid files, so the fuzzer starts from inputs that reach the tensor checks.
    auto f = File::parse(seed.bytes, seed.name);
    EXPECT_TRUE(f) << f.error().message;
    EXPECT_EQ(fuzz::gguf_reader(seed.bytes.data(), seed.bytes.size()), 0);
  }
}

// The smaller conformance models whole (the seed corpus has shrunken copies of all of them); the larger ones
// would only repeat the same paths over more weight bytes.
TEST(GgufReaderFuzzReplay, SmallConformanceModels) {
  size_t count = 0;
  for (const auto& model : sy::test::conformance_models()) {
    if (std::filesystem::file_size(model) > (1u << 20)) continue;
    const auto bytes = sy::test::read_file_bytes(model);
    EXPECT_EQ(fuzz::gguf_reader(bytes.data(), bytes.size()), 0) << model;
    ++count;
  }
  EXPECT_GT(count, 0u) << "no conformance model under 1 MiB";
}

TEST(GgufReaderFuzzReplay, KeptRegressionInputs) {
  const auto dir = std::filesystem::path(SY_SOURCE_DIR) / "tests/fuzz/regressions/gguf_reader";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  size_t count = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == "README.md") continue;
    const auto bytes = sy::test::read_file_bytes(e.path());
    EXPECT_EQ(fuzz::gguf_reader(bytes.data(), bytes.size()), 0) << e.path();
    ++count;
  }
  EXPECT_GT(count, 0u);
}

TEST(GgufReaderFuzzReplay, EveryPrefixAndByteFlipOfASeed) {
  const auto inputs = seeds("gguf_fuzz_seeds_flip");
  const auto it = std::find_if(inputs.begin(), inputs.end(),
                               [](const fuzz::SeedInput& s) { return s.name == "synthetic-all-types-align64.gguf"; });
  ASSERT_NE(it, inputs.end());
  const std::vector<uint8_t>& seed = it->bytes;
  auto full = File::parse(seed, "seed");
  ASSERT_TRUE(full);
  for (size_t n = 0; n < seed.size(); ++n) {
    // Exactly n bytes on the heap, so a read past them is an AddressSanitizer report.
    std::vector<uint8_t> prefix(seed.begin(), seed.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(fuzz::gguf_reader(prefix.data(), prefix.size()), 0);
    if (n < full->data_offset()) {
      EXPECT_FALSE(File::parse(prefix, "prefix")) << n;  // cut inside the header
    }
  }
  std::vector<uint8_t> flipped = seed;
  for (size_t i = 0; i < full->data_offset(); ++i) {
    for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      flipped[i] ^= x;
      EXPECT_EQ(fuzz::gguf_reader(flipped.data(), flipped.size()), 0);
      flipped[i] ^= x;
    }
  }
}

}  // namespace
}  // namespace sy::gguf
