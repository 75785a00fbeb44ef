// Conformance against llama.cpp's reference outputs (../shared/conformance/refs, never regenerated here).
// For every model and sequence: prompt logits at every position, the experts chosen per layer and token,
// and 16 greedy steps (fed the reference's greedy tokens, so every gen row stays comparable) with their experts.
// With the AVX2 kernels, which follow llama.cpp's float order op by op, every case must be bit-identical: every
// logit, every expert, every greedy token. This binary therefore caps the kernels at AVX2 (the AVX-512 ones do
// not follow that order yet) unless SY_CONFORMANCE_NATIVE=1, which ctest also runs. With the AVX-512 kernels,
// or without AVX2 (scalar reference kernels), the tolerances of conformance/README.md apply: F32 1e-4 abs with
// identical experts; F16 1e-2 with identical experts; quantised files >= 95% of positions with the same top-1 and the
// same experts, and within kQuantizedNear (a few rounding flips; see the test body).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/quant/quant.h"
#include "kernels/simd/cpu_features.h"
#include "model/model.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "support/test_support.h"

namespace sy {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Set before main(), so before the first kernel choice reads the CPU's features. SY_CONFORMANCE_NATIVE=1 keeps
// every kernel this CPU has (ctest runs the suite both ways): the AVX-512 ones are then held to the tolerances.
bool cap_kernels_at_avx2() {
  const char* native = std::getenv("SY_CONFORMANCE_NATIVE");
  if (native != nullptr && std::string_view(native) == "1") return false;
  return ::setenv("SWITCHYARD_MAX_ISA", "avx2", 1) == 0;
}
const bool kKernelsCappedAtAvx2 = cap_kernels_at_avx2();

enum class Tier { kF32, kF16, kQuantized };

struct Case {
  std::string model;  // e.g. "qwen3moe-tiny.f32"
  std::string seq;    // s8, s32, s100
};

// Readable test names in ctest instead of the bytes of the struct.
void PrintTo(const Case& c, std::ostream* os) { *os << c.model << "/" << c.seq; }

Tier tier_of(const std::string& model) {
  if (model.ends_with(".f32")) return Tier::kF32;
  if (model.ends_with(".f16")) return Tier::kF16;
  return Tier::kQuantized;
}

// A reference file of exactly `count` floats (throws, failing the test, when its size says otherwise).
std::vector<float> read_f32(const fs::path& path, size_t count) {
  const auto bytes = test::read_file_bytes(path, count * sizeof(float));
  std::vector<float> out(count);
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

// Records the experts each layer chose for each token, in slot order.
class ExpertRecorder final : public moe::RoutingObserver {
 public:
  void on_routing(const moe::RoutingEvent& e) override {
    if (static_cast<size_t>(e.layer) >= by_layer.size()) by_layer.resize(static_cast<size_t>(e.layer) + 1);
    for (int64_t t = 0; t < e.decision->n_tokens; ++t) {
      auto ids = e.decision->ids_of(t);
      by_layer[static_cast<size_t>(e.layer)].emplace_back(ids.begin(), ids.end());
    }
  }
  std::vector<std::vector<std::vector<int32_t>>> by_layer;  // [layer][token][slot]
};

// A position within a few rounding flips of the reference (quantised files; see the test body).
constexpr float kQuantizedNear = 0.15f;

struct RowStats {
  int rows = 0, close = 0;  // close: within the tier's per-position bound and the same top-1
  int same_top = 0;
  int near = 0;  // within kQuantizedNear
  float max_abs = 0.0f;
  int first_bad = -1;
};

void compare_rows(const float* got, const float* want, int rows, int n_vocab, float bound, RowStats& stats) {
  for (int r = 0; r < rows; ++r) {
    float row_max = 0.0f;
    for (int v = 0; v < n_vocab; ++v)
      row_max = std::max(row_max, std::fabs(got[r * n_vocab + v] - want[r * n_vocab + v]));
    const bool same_top = runtime::argmax({got + r * n_vocab, static_cast<size_t>(n_vocab)}) ==
                          runtime::argmax({want + r * n_vocab, static_cast<size_t>(n_vocab)});
    stats.max_abs = std::max(stats.max_abs, row_max);
    stats.same_top += same_top ? 1 : 0;
    stats.near += row_max <= kQuantizedNear ? 1 : 0;
    if (row_max <= bound && same_top)
      ++stats.close;
    else if (stats.first_bad < 0)
      stats.first_bad = stats.rows;
    ++stats.rows;
  }
}

// The kernels a file needs that this build lacks ("" when none).
std::string missing_kernels(const gguf::File& file) {
  std::string missing;
  for (const auto& t : file.tensors())
    if (kernels::find_kernels(t.type) == nullptr && missing.find(std::string(type_name(t.type))) == std::string::npos)
      missing += (missing.empty() ? "" : ", ") + std::string(type_name(t.type));
  return missing;
}

class LlamaCppRefs : public ::testing::TestWithParam<Case> {};

TEST_P(LlamaCppRefs, LogitsExpertsAndGreedy) {
  const Case& c = GetParam();
  const fs::path root = test::conformance_dir();
  ASSERT_FALSE(c.model.empty()) << "no conformance models in " << root / "models";
  const fs::path ref_path = root / "refs" / c.model / (c.seq + ".json");
  ASSERT_TRUE(fs::is_regular_file(ref_path)) << "missing reference " << ref_path;
  const json ref = json::parse(std::ifstream(ref_path));
  auto file = gguf::File::open(root / "models" / (c.model + ".gguf"));
  ASSERT_TRUE(file) << file.error().message;
  // A model the engine cannot run is a failure: skipping it would let the suite pass with a type unsupported.
  if (std::string missing = missing_kernels(*file); !missing.empty())
    FAIL() << "this build has no kernels for " << missing;
  auto model = model::Model::from_file(std::move(*file));
  ASSERT_TRUE(model) << model.error().message;

  const Tier tier = tier_of(c.model);
  // F16: we round activations to F16 as llama.cpp does (measured <= 3.7e-3), so 1e-2 rather than the README's 2e-2.
  const float bound = tier == Tier::kF32 ? 1e-4f : tier == Tier::kF16 ? 1e-2f : 1e-2f;
  const int n_vocab = ref.at("n_vocab").get<int>();
  ASSERT_EQ((*model)->config().common.n_vocab, n_vocab);
  const auto tokens = ref.at("tokens").get<std::vector<int32_t>>();
  const auto greedy = ref.at("greedy").get<std::vector<int32_t>>();
  const auto margins = ref.at("top2_margin_greedy_steps").get<std::vector<float>>();
  const int n = static_cast<int>(tokens.size());
  ASSERT_GT(n, 0) << ref_path << " has no tokens";
  ASSERT_EQ(margins.size(), greedy.size()) << ref_path;

  runtime::Session session(**model, runtime::SessionOptions{.n_ctx = n + 16, .n_threads = 1});
  ExpertRecorder recorder;
  session.observers().add(&recorder);

  // Prompt: one batch, logits at every position.
  std::vector<float> logits;
  ASSERT_TRUE(session.eval(tokens, logits));
  // [n, n_vocab] and [greedy steps, n_vocab]
  const size_t row = static_cast<size_t>(n_vocab);
  const std::vector<float> want_prompt =
      read_f32(root / "refs" / c.model / (c.seq + ".prompt.f32"), static_cast<size_t>(n) * row);
  const std::vector<float> want_gen = read_f32(root / "refs" / c.model / (c.seq + ".gen.f32"), greedy.size() * row);
  ASSERT_EQ(want_prompt.size(), logits.size());
  RowStats prompt;
  compare_rows(logits.data(), want_prompt.data(), n, n_vocab, bound, prompt);

  // Experts of the prompt: identical lists (set and order) per layer and token.
  const json& experts = ref.at("experts_prompt");
  int expert_rows = 0, expert_same = 0;
  for (size_t il = 0; il < experts.size(); ++il) {
    if (experts[il].is_null()) continue;
    ASSERT_LT(il, recorder.by_layer.size()) << "layer " << il << " made no routing decision";
    ASSERT_EQ(recorder.by_layer[il].size(), static_cast<size_t>(n)) << "layer " << il << ": one decision per token";
    ASSERT_EQ(experts[il].size(), static_cast<size_t>(n)) << ref_path << ": experts_prompt of layer " << il;
    for (int t = 0; t < n; ++t) {
      ++expert_rows;
      if (recorder.by_layer[il][static_cast<size_t>(t)] ==
          experts[il][static_cast<size_t>(t)].get<std::vector<int32_t>>())
        ++expert_same;
      else if (tier != Tier::kQuantized)
        ADD_FAILURE() << "layer " << il << " token " << t << ": experts differ";
    }
  }

  // 16 greedy steps, teacher-forced with the reference tokens.
  std::vector<float> gen;
  int greedy_diffs = 0;
  for (size_t j = 0; j < greedy.size(); ++j) {
    const float* last = logits.data() + logits.size() - static_cast<size_t>(n_vocab);
    const int32_t mine = runtime::argmax({last, static_cast<size_t>(n_vocab)});
    if (mine != greedy[j]) {
      ++greedy_diffs;
      // A different choice is acceptable only at a near-tie the tolerance cannot resolve.
      if (tier != Tier::kQuantized) {
        EXPECT_LE(margins[j], bound) << "greedy step " << j << ": chose " << mine << ", reference " << greedy[j];
      }
    }
    ASSERT_TRUE(session.eval(std::span<const int32_t>(&greedy[j], 1), logits));
    gen.insert(gen.end(), logits.begin(), logits.end());
  }
  // Experts of the decode steps: the recorder appended one row per step after the prompt's rows.
  const json& experts_gen = ref.at("experts_gen");
  ASSERT_EQ(experts_gen.size(), greedy.size()) << ref_path;
  for (size_t j = 0; j < experts_gen.size(); ++j) {
    for (size_t il = 0; il < experts_gen[j].size(); ++il) {
      if (experts_gen[j][il].is_null()) continue;
      ASSERT_LT(il, recorder.by_layer.size()) << "layer " << il << " made no routing decision";
      ASSERT_LT(static_cast<size_t>(n) + j, recorder.by_layer[il].size()) << "layer " << il << " decode step " << j;
      ++expert_rows;
      if (recorder.by_layer[il][static_cast<size_t>(n) + j] == experts_gen[j][il][0].get<std::vector<int32_t>>())
        ++expert_same;
      else if (tier != Tier::kQuantized)
        ADD_FAILURE() << "layer " << il << " decode step " << j << ": experts differ";
    }
  }

  RowStats gen_stats;
  compare_rows(gen.data(), want_gen.data(), static_cast<int>(greedy.size()), n_vocab, bound, gen_stats);

  const std::string summary =
      c.model + " " + c.seq + ": prompt max abs " + std::to_string(prompt.max_abs) + ", within " +
      std::to_string(bound) + " and same top-1: " + std::to_string(prompt.close) + "/" + std::to_string(prompt.rows) +
      " prompt, " + std::to_string(gen_stats.close) + "/" + std::to_string(gen_stats.rows) + " gen (gen max abs " +
      std::to_string(gen_stats.max_abs) + "), top-1 " + std::to_string(prompt.same_top + gen_stats.same_top) + "/" +
      std::to_string(prompt.rows + gen_stats.rows) + ", experts " + std::to_string(expert_same) + "/" +
      std::to_string(expert_rows) + ", greedy diffs " + std::to_string(greedy_diffs);
  std::printf("  %s\n", summary.c_str());
  if (kernels::cpu_features().avx2 && !kernels::cpu_features().avx512) {
    EXPECT_EQ(prompt.max_abs, 0.0f) << summary << "; first differing prompt row " << prompt.first_bad;
    EXPECT_EQ(gen_stats.max_abs, 0.0f) << summary;
    EXPECT_EQ(expert_same, expert_rows) << summary;
    EXPECT_EQ(greedy_diffs, 0) << summary;
  } else if (tier == Tier::kQuantized) {
    // A quantised run agrees with llama.cpp bit for bit until one activation rounds the other way (float
    // accumulation order differs between any two kernels); from then on every later position attends to the
    // changed key/value and carries a shift of a few 1e-2 (llama.cpp's own spread under an F16 KV cache is
    // 0.07..1.6). So: the top-1 of almost every position agrees, positions stay within a few flips' worth,
    // and the experts agree almost everywhere.
    const int rows = prompt.rows + gen_stats.rows;
    EXPECT_GE((prompt.same_top + gen_stats.same_top) * 100, rows * 95) << summary;
    EXPECT_GE((prompt.near + gen_stats.near) * 100, rows * 95) << summary;
    EXPECT_GE(expert_same * 100, expert_rows * 95) << summary;
  } else {
    EXPECT_EQ(prompt.close, prompt.rows) << summary << "; first bad prompt row " << prompt.first_bad;
    EXPECT_EQ(gen_stats.close, gen_stats.rows) << summary << "; first bad gen row " << gen_stats.first_bad;
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const auto& path : test::find_conformance_models())
    for (const char* seq : {"s8", "s32", "s100"}) cases.push_back({path.stem().string(), seq});
  // No models would instantiate no test, and the suite would pass: one empty case fails in the body instead.
  if (cases.empty()) cases.push_back({});
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  if (info.param.model.empty()) return "NoModels";
  std::string name = info.param.model + "_" + info.param.seq;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllModels, LlamaCppRefs, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace
}  // namespace sy
