// gen-model's writer: files round-trip through the reader and the spec, types follow llama-quantize (checked
// against the conformance files it made), bytes depend on the seed only, and values have the intended scale.
#include "modelgen/generator.h"

#include <gtest/gtest.h>

#include <cmath>

#include "format/gguf_reader.h"
#include "kernels/quant/quant.h"
#include "model/arch_spec.h"
#include "modelgen/presets.h"
#include "support/test_support.h"

namespace sy::modelgen {
namespace {

PlannedModel plan(std::string_view preset, std::string_view type, std::vector<Override> overrides = {}) {
  auto meta = preset_metadata(*find_preset(preset), overrides);
  EXPECT_TRUE(meta) << meta.error().message;
  auto scheme = parse_scheme(type);
  EXPECT_TRUE(scheme) << scheme.error().message;
  auto p = plan_model(std::move(*meta), *scheme);
  EXPECT_TRUE(p) << p.error().message;
  return std::move(*p);
}

TEST(Generator, TinyPresetsRoundTrip) {
  const auto dir = test::scratch_dir("gen_roundtrip");
  for (const Preset& preset : all_presets()) {
    if (!preset.name.ends_with("-tiny")) continue;
    for (const char* type : {"f32", "q8_0", "q4_k_m", "mxfp4_moe"}) {
      SCOPED_TRACE(std::string(preset.name) + " " + type);
      const PlannedModel m = plan(preset.name, type);
      const auto path = dir / (std::string(preset.name) + "." + type + ".gguf");
      ASSERT_TRUE(generate_model(path, m, {.seed = 7, .n_threads = 2, .on_progress = {}}));
      auto file = gguf::File::open(path);
      ASSERT_TRUE(file) << file.error().message;
      auto config = model::load_config(*file);
      ASSERT_TRUE(config) << config.error().message;
      const auto table = model::tensor_table(*config);
      ASSERT_EQ(table.size(), file->tensors().size());
      for (size_t i = 0; i < table.size(); ++i) {
        const gguf::TensorInfo* t = file->find_tensor(table[i].name);
        ASSERT_NE(t, nullptr) << table[i].name;
        for (size_t d = 0; d < 3; ++d) EXPECT_EQ(t->ne[d], table[i].shape[d]) << t->name;
        EXPECT_EQ(t->type, m.types[i]) << t->name;
      }
      EXPECT_EQ(*file->find("general.file_type")->as_int(), m.file_type);
      // Values are finite once dequantised.
      for (const auto& t : file->tensors()) {
        const auto* k = kernels::find_kernels(t.type);
        ASSERT_NE(k, nullptr);
        std::vector<float> row(static_cast<size_t>(t.ne[0]));
        k->dequantize_row(t.data.data(), row.data(), t.ne[0]);
        for (float v : row) ASSERT_TRUE(std::isfinite(v)) << t.name;
      }
    }
  }
}

// The plan reproduces llama-quantize's choices in every quantised conformance file (Q8_0, Q4_K_M with its
// Q6_K/Q5_K/Q8_0 rules and Q5_0 fallback, MXFP4_MOE), given that file's own metadata.
TEST(Generator, TypePlanMatchesLlamaQuantize) {
  const std::pair<const char*, const char*> cases[] = {{"qwen3moe-kq.q4_k_m.gguf", "q4_k_m"},
                                                       {"deepseek3-kq.q4_k_m.gguf", "q4_k_m"},
                                                       {"gpt-oss-tiny.mxfp4_moe.gguf", "mxfp4_moe"},
                                                       {"qwen3moe-tiny.q8_0.gguf", "q8_0"},
                                                       {"deepseek2-lite-tiny.q8_0.gguf", "q8_0"},
                                                       {"qwen2moe-tiny.q8_0.gguf", "q8_0"},
                                                       {"qwen3moe-kq.f16.gguf", "f16"},
                                                       {"olmoe-tiny.f32.gguf", "f32"}};
  for (const auto& [name, type] : cases) {
    SCOPED_TRACE(name);
    auto file = gguf::File::open(test::conformance_dir() / "models" / name);
    ASSERT_TRUE(file) << file.error().message;
    model::MetadataMap meta;
    meta.source = name;
    for (const auto& [k, v] : file->metadata()) meta.entries.emplace_back(k, v);
    for (const auto& t : file->tensors()) meta.tensor_names.push_back(t.name);
    auto p = plan_model(meta, *parse_scheme(type));
    ASSERT_TRUE(p) << p.error().message;
    for (size_t i = 0; i < p->table.size(); ++i) {
      const gguf::TensorInfo* t = file->find_tensor(p->table[i].name);
      if (t == nullptr) continue;  // optional output absent
      EXPECT_EQ(type_name(p->types[i]), type_name(t->type)) << t->name;
    }
    EXPECT_EQ(p->file_type, *file->find("general.file_type")->as_int());
  }
}

TEST(Generator, DeterministicForASeedWhateverTheThreads) {
  const auto dir = test::scratch_dir("gen_determinism");
  const PlannedModel m = plan("deepseek3-tiny", "q4_k_m");
  ASSERT_TRUE(generate_model(dir / "a.gguf", m, {.seed = 42, .n_threads = 1, .on_progress = {}}));
  ASSERT_TRUE(generate_model(dir / "b.gguf", m, {.seed = 42, .n_threads = 3, .on_progress = {}}));
  ASSERT_TRUE(generate_model(dir / "c.gguf", m, {.seed = 43, .n_threads = 2, .on_progress = {}}));
  const auto a = test::read_file_bytes(dir / "a.gguf");
  EXPECT_EQ(a, test::read_file_bytes(dir / "b.gguf"));
  EXPECT_NE(a, test::read_file_bytes(dir / "c.gguf"));
}

TEST(Generator, ValuesHaveTheIntendedScale) {
  const PlannedModel m = plan("qwen3moe-tiny", "f32", {{"embedding_length", "1024"}});
  auto stats = [&](model::Role role) {
    for (size_t i = 0; i < m.table.size(); ++i) {
      if (m.table[i].role != role) continue;
      std::vector<float> row(static_cast<size_t>(m.table[i].shape[0]));
      double sum = 0, sq = 0;
      for (int64_t r = 0; r < 8; ++r) {
        fill_row(m.table[i], i, r, 1, row);
        for (float v : row) {
          sum += v;
          sq += static_cast<double>(v) * v;
        }
      }
      const double n = 8.0 * static_cast<double>(row.size());
      return std::pair{sum / n, std::sqrt(sq / n - (sum / n) * (sum / n))};
    }
    ADD_FAILURE() << "role not in table";
    return std::pair{0.0, 0.0};
  };
  const auto [q_mean, q_std] = stats(model::Role::kAttnQ);  // fan_in 1024
  EXPECT_NEAR(q_mean, 0.0, 0.01);
  EXPECT_NEAR(q_std, 1.0 / 32.0, 0.002);
  const auto [r_mean, r_std] = stats(model::Role::kRouter);
  EXPECT_NEAR(r_std, 2.0 / 32.0, 0.004);
  const auto [n_mean, n_std] = stats(model::Role::kAttnNorm);
  EXPECT_NEAR(n_mean, 1.0, 0.02);
  EXPECT_NEAR(n_std, 0.1, 0.01);
  const auto [e_mean, e_std] = stats(model::Role::kTokenEmbd);
  EXPECT_NEAR(e_std, 1.0, 0.05);
}

TEST(Generator, BadSchemesAndFailedWrites) {
  EXPECT_FALSE(parse_scheme("q9_0"));
  EXPECT_NE(parse_scheme("nope").error().message.find("q4_k_m"), std::string::npos);
  ASSERT_TRUE(parse_scheme("Q4_K_M"));
  const PlannedModel m = plan("olmoe-tiny", "q8_0");
  auto st = generate_model("/nonexistent-dir/x.gguf", m, {});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("nonexistent-dir"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace sy::modelgen
