// Replays the trace_reader fuzz target (tests/fuzz/trace_reader_fuzz.cpp) in every build: on real traces of a
// conformance model (which must read and report), every prefix of one, and every input kept in
// tests/fuzz/regressions/trace_reader/. Also pins down the report's bounds on what a header can make it draw.
#include <gtest/gtest.h>

#include <cstring>

#include "cli/routes_report.h"
#include "fuzz/trace_reader_seeds.h"
#include "moe/analysis/locality.h"
#include "moe/analysis/report.h"
#include "moe/analysis/streams.h"
#include "moe/trace/trace_reader.h"
#include "support/test_support.h"

namespace sy::fuzz {
int trace_reader(const uint8_t* data, size_t size);
}

namespace sy::moe::trace {
namespace {

std::vector<fuzz::SeedInput> seeds(const std::string& scratch) {
  auto s = fuzz::trace_reader_seed_inputs(sy::test::scratch_dir(scratch),
                                          sy::test::conformance_dir() / "models/qwen3moe-tiny.q8_0.gguf");
  EXPECT_TRUE(s) << s.error().message;
  return s ? *s : std::vector<fuzz::SeedInput>{};
}

TEST(TraceReaderFuzzReplay, RealTracesReadAndReport) {
  const auto inputs = seeds("trace_reader_seeds");
  EXPECT_EQ(inputs.size(), 4u);
  for (const auto& seed : inputs) {
    SCOPED_TRACE(seed.name);
    auto t = parse_trace(seed.bytes);
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->records.size(), (8u + 4u + 3u) * 3u);  // tokens × MoE layers
    EXPECT_EQ(t->truncated_bytes, 0u);
    auto report = moe::analysis::routing_report(*t, seed.name);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ((*report)["layers"].size(), 3u);
    EXPECT_TRUE((*report)["layers"][0].contains("co_activation"));
    // The report simulates a cache once for every capacity past the experts a layer uses: the curve must be the
    // one a simulation per capacity gives.
    const auto streams = analysis::layer_streams(*t);
    const nlohmann::json& cache = (*report)["layers"][0]["cache_stream"];
    const auto caps = cache["capacity"].get<std::vector<int32_t>>();
    for (size_t i = 0; i < caps.size(); ++i)
      for (const auto& [name, policy] :
           {std::pair("lru", analysis::CachePolicy::kLru), std::pair("lfu", analysis::CachePolicy::kLfu),
            std::pair("belady", analysis::CachePolicy::kBelady)})
        EXPECT_EQ(cache[name][i].get<double>(), analysis::cache_hit_rate(streams[0], caps[i], policy)) << name;
    EXPECT_EQ(fuzz::trace_reader(seed.bytes.data(), seed.bytes.size()), 0);
  }
}

TEST(TraceReaderFuzzReplay, EveryPrefixOfATrace) {
  const auto inputs = seeds("trace_reader_prefixes");
  ASSERT_FALSE(inputs.empty());
  const std::vector<uint8_t>& seed = inputs.front().bytes;
  for (size_t n = 0; n <= seed.size(); n += 29) {
    std::vector<uint8_t> prefix(seed.begin(), seed.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(fuzz::trace_reader(prefix.data(), prefix.size()), 0) << n;
  }
}

TEST(TraceReaderFuzzReplay, KeptRegressionInputs) {
  for (const auto& path : sy::test::fuzz_inputs("trace_reader")) {
    const auto bytes = sy::test::read_file_bytes(path);
    EXPECT_EQ(fuzz::trace_reader(bytes.data(), bytes.size()), 0) << path;
  }
}

// A header claiming 65535 experts (the u16 ids' limit) once made `routes report` allocate an expert × expert
// matrix of ~34 GB; no model switchyard loads has more than 16384 experts in a layer, so the reader refuses it.
TEST(TraceReaderFuzzReplay, HeaderWithMoreExpertsThanAnyModelIsRefused) {
  const auto inputs = seeds("trace_reader_forged");
  ASSERT_FALSE(inputs.empty());
  std::vector<uint8_t> bytes = inputs.front().bytes;
  const uint32_t forged = 65535;
  std::memcpy(bytes.data() + 48 + 4, &forged, 4);  // the first MoE layer entry's n_expert
  auto t = parse_trace(bytes);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("offset 48"), std::string::npos) << t.error().message;
  EXPECT_NE(t.error().message.find("16384"), std::string::npos) << t.error().message;
}

Trace one_record_trace(uint32_t n_expert, uint32_t n_moe) {
  Trace t;
  t.header.n_layer = n_moe;
  t.header.slots = 1;
  for (uint32_t l = 0; l < n_moe; ++l) t.header.layers.push_back({l, n_expert, 1});
  for (uint32_t l = 0; l < n_moe; ++l)
    t.records.push_back({.layer = static_cast<uint16_t>(l), .ids = {0}, .weights = {1}});
  return t;
}

// The most experts a layer can have still reports, but without the 16384² matrices; a header whose layers ×
// experts pass what a report can draw is an error, not gigabytes.
TEST(TraceReaderFuzzReplay, ReportBoundsWhatAHeaderCanMakeItDraw) {
  auto wide = moe::analysis::routing_report(one_record_trace(16384, 1), "wide");
  ASSERT_TRUE(wide) << wide.error().message;
  EXPECT_FALSE((*wide)["layers"][0].contains("co_activation"));
  EXPECT_TRUE((*wide)["layers"][0].contains("matrices_omitted"));
  EXPECT_NE(cli::report_html(*wide).find("left out"), std::string::npos);
  auto many = moe::analysis::routing_report(one_record_trace(16384, 64), "many");
  ASSERT_FALSE(many);
  EXPECT_NE(many.error().message.find("64 MoE layers"), std::string::npos) << many.error().message;
  // Layers without records are listed, not drawn.
  Trace sparse = one_record_trace(8, 4);
  sparse.records.resize(1);
  auto r = moe::analysis::routing_report(sparse, "sparse");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["layers"].size(), 1u);
  EXPECT_EQ((*r)["trace"]["layers_without_records"], nlohmann::json({1, 2, 3}));
}

}  // namespace
}  // namespace sy::moe::trace
