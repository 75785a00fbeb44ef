// Presets: the published parameter counts, agreement with the conformance files' keys and tensors, and
// clear errors for bad overrides.
#include "modelgen/presets.h"

#include <gtest/gtest.h>

#include <set>

#include "format/gguf_reader.h"
#include "model/accounting.h"
#include "model/arch_spec.h"
#include "modelgen/generator.h"
#include "modelgen/synthetic_vocab.h"
#include "support/test_support.h"

namespace sy::modelgen {
namespace {

model::Accounting preset_accounting(std::string_view name) {
  const Preset* p = find_preset(name);
  EXPECT_NE(p, nullptr) << name;
  auto meta = preset_metadata(*p, {});
  EXPECT_TRUE(meta) << meta.error().message;
  auto config = model::load_config(*meta);
  EXPECT_TRUE(config) << config.error().message;
  const auto table = model::tensor_table(*config);
  return model::account(*config, model::f32_costs(table));
}

void expect_within(double value, double expected, double rel, const char* what) {
  EXPECT_NEAR(value / expected, 1.0, rel) << what << ": " << value << " vs " << expected;
}

// The "Done when" figures of the Foundation issue, and the published totals of the other presets.
TEST(Presets, PublishedParameterCounts) {
  const auto qwen = preset_accounting("qwen3-30b-a3b");
  expect_within(static_cast<double>(qwen.total_params), 30.5e9, 0.02, "qwen3 total");
  expect_within(qwen.active_params, 3.3e9, 0.02, "qwen3 active");
  const auto olmoe = preset_accounting("olmoe-1b-7b");
  expect_within(static_cast<double>(olmoe.total_params), 6.9e9, 0.02, "olmoe total");
  expect_within(olmoe.active_params, 1.3e9, 0.02, "olmoe active");
  const auto mixtral = preset_accounting("mixtral-8x7b");
  expect_within(static_cast<double>(mixtral.total_params), 46.7e9, 0.02, "mixtral total");
  expect_within(mixtral.active_params, 12.9e9, 0.02, "mixtral active");
  // DeepSeek and OpenAI quote active parameters without the token embedding.
  const auto ds = preset_accounting("deepseek-v2-lite");
  expect_within(static_cast<double>(ds.total_params), 15.7e9, 0.02, "deepseek-v2-lite total");
  expect_within(ds.active_params - static_cast<double>(ds.params_of(model::Placement::kEmbedding)), 2.4e9, 0.03,
                "deepseek-v2-lite active");
  const auto oss = preset_accounting("gpt-oss-20b");
  expect_within(static_cast<double>(oss.total_params), 20.9e9, 0.02, "gpt-oss-20b total");
  expect_within(oss.active_params - static_cast<double>(oss.params_of(model::Placement::kEmbedding)), 3.6e9, 0.02,
                "gpt-oss-20b active");
}

// Each tiny preset writes the architecture keys and the tensors of the conformance file it mirrors.
TEST(Presets, TinyPresetsMatchConformanceFiles) {
  const std::pair<const char*, const char*> pairs[] = {{"qwen3moe-tiny", "qwen3moe-tiny.f32.gguf"},
                                                       {"olmoe-tiny", "olmoe-tiny.f32.gguf"},
                                                       {"mixtral-tiny", "mixtral-tiny.f32.gguf"},
                                                       {"qwen2moe-tiny", "qwen2moe-tiny.f32.gguf"},
                                                       {"deepseek2-lite-tiny", "deepseek2-lite-tiny.f32.gguf"},
                                                       {"deepseek3-tiny", "deepseek3-tiny.f32.gguf"},
                                                       {"gpt-oss-tiny", "gpt-oss-tiny.f32.gguf"}};
  for (const auto& [preset, file_name] : pairs) {
    SCOPED_TRACE(preset);
    auto file = gguf::File::open(test::conformance_dir() / "models" / file_name);
    ASSERT_TRUE(file) << file.error().message;
    auto meta = preset_metadata(*find_preset(preset), {});
    ASSERT_TRUE(meta) << meta.error().message;
    const std::string arch = *file->find("general.architecture")->as_string();
    std::set<std::string> file_keys, preset_keys;
    for (const auto& [k, v] : file->metadata()) {
      if (!k.starts_with(arch + ".")) continue;
      file_keys.insert(k);
      const gguf::Value* mine = meta->find(k);
      ASSERT_NE(mine, nullptr) << k;
      EXPECT_EQ(*mine, v) << k << ": " << mine->to_display() << " vs the file's " << v.to_display();
    }
    for (const auto& [k, v] : meta->entries)
      if (k.starts_with(arch + ".")) preset_keys.insert(k);
    EXPECT_EQ(preset_keys, file_keys);

    auto config = model::load_config(*meta);
    ASSERT_TRUE(config) << config.error().message;
    const auto table = model::tensor_table(*config);
    std::set<std::string> names;
    for (const auto& s : table) {
      names.insert(s.name);
      const gguf::TensorInfo* t = file->find_tensor(s.name);
      ASSERT_NE(t, nullptr) << s.name;
      for (size_t d = 0; d < 3; ++d) EXPECT_EQ(t->ne[d], s.shape[d]) << s.name;
    }
    EXPECT_EQ(names.size(), file->tensors().size());
  }
}

TEST(Presets, OverridesAndErrors) {
  const Preset* p = find_preset("qwen3moe-tiny");
  ASSERT_NE(p, nullptr);
  const Override ok[] = {{"block_count", "5"}, {"qwen3moe.expert_count", "32"}, {"rope.freq_base", "5000"}};
  auto meta = preset_metadata(*p, ok);
  ASSERT_TRUE(meta) << meta.error().message;
  auto config = model::load_config(*meta);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->layers.size(), 5u);
  EXPECT_EQ(config->layers[0].ffn.moe.routing.n_expert, 32);
  EXPECT_FLOAT_EQ(config->layers[0].attn.rope.freq_base, 5000.0f);

  auto expect_error = [&](std::span<const Override> o, const char* needle) {
    auto m = preset_metadata(*p, o);
    ASSERT_FALSE(m) << needle;
    EXPECT_NE(m.error().message.find(needle), std::string::npos) << m.error().message;
  };
  const Override not_int[] = {{"block_count", "many"}};
  expect_error(not_int, "unsigned 32-bit integer");
  const Override negative[] = {{"block_count", "-1"}};
  expect_error(negative, "unsigned 32-bit integer");
  const Override not_float[] = {{"rope.freq_base", "1e999"}};
  expect_error(not_float, "finite number");
  const Override tokenizer[] = {{"tokenizer.ggml.pre", "x"}};
  expect_error(tokenizer, "only architecture keys");
  const Override typo[] = {{"block_cont", "2"}};  // a mistyped key is refused, not written and ignored
  expect_error(typo, "has no key '");
  expect_error(typo, "block_count");  // the valid keys are listed
  auto small = preset_metadata(*p, {}, 100);
  ASSERT_FALSE(small);
  EXPECT_NE(small.error().message.find("below the minimum"), std::string::npos);

  EXPECT_FALSE(parse_override("novalue"));
  EXPECT_FALSE(parse_override("=3"));
  // A config the spec rejects names the key.
  const Override zero_used[] = {{"expert_used_count", "0"}};
  auto m = preset_metadata(*p, zero_used);
  ASSERT_TRUE(m);
  auto bad = model::load_config(*m);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("expert_used_count"), std::string::npos) << bad.error().message;
}

TEST(SyntheticVocab, DistinctTokensAndValidMerges) {
  for (int64_t n : {kMinVocab, int64_t{512}, int64_t{50304}}) {
    model::MetadataMap m;
    m.source = "test";
    ASSERT_TRUE(add_synthetic_vocab(m, n));
    const auto& tokens = m.find("tokenizer.ggml.tokens")->as_array()->values();
    ASSERT_EQ(static_cast<int64_t>(tokens.size()), n);
    std::set<std::string> seen;
    for (const auto& t : tokens) EXPECT_TRUE(seen.insert(*t.as_string()).second) << *t.as_string();
    EXPECT_EQ(m.find("tokenizer.ggml.token_type")->as_array()->size(), tokens.size());
    // Both halves of each merge, and its result, are tokens.
    for (const auto& merge : m.find("tokenizer.ggml.merges")->as_array()->values()) {
      const std::string& s = *merge.as_string();
      const size_t sp = s.find(' ');
      ASSERT_NE(sp, std::string::npos);
      EXPECT_TRUE(seen.count(s.substr(0, sp)) && seen.count(s.substr(sp + 1)) &&
                  seen.count(s.substr(0, sp) + s.substr(sp + 1)))
          << s;
    }
    EXPECT_EQ(*m.find("tokenizer.ggml.eos_token_id")->as_int(), n - 3);
    EXPECT_EQ(*tokens[static_cast<size_t>(n - 3)].as_string(), "<|endoftext|>");
    EXPECT_EQ(*tokens[33].as_string(), "!");       // printable bytes spell themselves
    EXPECT_EQ(*tokens[32].as_string(), "\u0120");  // space is "Ġ" in GPT-2's byte table
  }
  model::MetadataMap m;
  EXPECT_FALSE(add_synthetic_vocab(m, kMinVocab - 1));
}

}  // namespace
}  // namespace sy::modelgen
