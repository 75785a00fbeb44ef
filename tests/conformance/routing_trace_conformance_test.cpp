// The routing seam and the trace against llama.cpp: on every F32 conformance model, routing through an
// explicit per-layer `native` policy and recording with the trace writer must give, after reading the file
// back, exactly the experts llama.cpp selected for each prompt token and layer (refs/<model>/s8.json).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/model.h"
#include "moe/policies/routing_spec.h"
#include "moe/trace/trace_reader.h"
#include "moe/trace/trace_writer.h"
#include "runtime/session.h"
#include "support/test_support.h"

namespace sy {
namespace {

namespace fs = std::filesystem;

class RoutingTraceRefs : public ::testing::TestWithParam<std::string> {};

TEST_P(RoutingTraceRefs, NativePolicyTraceMatchesLlamaCppExperts) {
  const std::string name = GetParam();
  const fs::path root = test::conformance_dir();
  ASSERT_FALSE(name.empty()) << "no *.f32.gguf conformance models in " << root / "models";
  const fs::path ref_path = root / "refs" / name / "s8.json";
  ASSERT_TRUE(fs::is_regular_file(ref_path)) << "missing reference " << ref_path;
  const auto ref = nlohmann::json::parse(std::ifstream(ref_path));
  auto model = model::Model::open(root / "models" / (name + ".gguf"));
  ASSERT_TRUE(model) << model.error().message;
  const auto& cfg = (*model)->config();

  std::vector<moe::MoeLayerInfo> layers;
  moe::trace::TraceHeader header{.n_layer = static_cast<uint32_t>(cfg.layers.size())};
  for (int32_t l = 0; l < static_cast<int32_t>(cfg.layers.size()); ++l) {
    if (cfg.layers[static_cast<size_t>(l)].ffn.kind != model::FfnKind::kMoe) continue;
    const moe::RoutingConfig& r = cfg.layers[static_cast<size_t>(l)].ffn.moe.routing;
    layers.push_back({.layer = l, .config = r});
    header.layers.push_back(
        {static_cast<uint32_t>(l), static_cast<uint32_t>(r.n_expert), static_cast<uint32_t>(r.n_used)});
  }
  // A layer range naming every block forces the per-layer dispatch instead of the session's own native policy.
  auto built = moe::build_routing_policy({.route = fmt::format("0-{}=native", cfg.layers.size() - 1)}, layers,
                                         static_cast<int32_t>(cfg.layers.size()));
  ASSERT_TRUE(built) << built.error().message;
  ASSERT_NE(built->policy, nullptr);
  header.slots = static_cast<uint32_t>(built->max_slots);

  const fs::path path = fs::temp_directory_path() / ("sy_routing_conf_" + name + ".trace");
  {
    runtime::Session session(**model, runtime::SessionOptions{.n_ctx = 64, .n_threads = 1});
    session.set_policy(std::move(built->policy));
    auto writer = moe::trace::TraceWriter::create(path.string(), header);
    ASSERT_TRUE(writer) << writer.error().message;
    session.observers().add(writer->get());
    std::vector<float> logits;
    ASSERT_TRUE(session.eval(ref.at("tokens").get<std::vector<int32_t>>(), logits));
    ASSERT_TRUE((*writer)->close());
  }
  auto trace = moe::trace::read_trace(path.string());
  fs::remove(path);
  ASSERT_TRUE(trace) << trace.error().message;

  const auto& experts = ref.at("experts_prompt");  // [layer][token][slot]; null for dense layers
  size_t compared = 0;
  for (const auto& r : trace->records) {
    const auto& want = experts.at(r.layer).at(r.pos);
    EXPECT_EQ(r.ids, want.get<std::vector<int32_t>>()) << name << " layer " << r.layer << " token " << r.pos;
    ++compared;
  }
  size_t expected = 0;
  for (const auto& l : experts)
    if (!l.is_null()) expected += l.size();
  EXPECT_GT(expected, 0u) << ref_path << " lists no experts";
  EXPECT_EQ(compared, expected);
}

std::vector<std::string> f32_models() {
  std::vector<std::string> out;
  for (const auto& p : test::find_conformance_models())
    if (p.stem().string().ends_with(".f32")) out.push_back(p.stem().string());
  // None would instantiate no test, and the suite would pass: one empty name fails in the body instead.
  if (out.empty()) out.emplace_back();
  return out;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& param) {
  if (param.param.empty()) return "NoModels";
  std::string s = param.param;
  std::replace_if(
      s.begin(), s.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return s;
}

INSTANTIATE_TEST_SUITE_P(F32, RoutingTraceRefs, ::testing::ValuesIn(f32_models()), test_name);

}  // namespace
}  // namespace sy
