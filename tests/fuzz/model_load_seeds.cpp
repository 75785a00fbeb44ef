#include "fuzz/model_load_seeds.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <string>
#include <utility>

#include "modelgen/generator.h"
#include "modelgen/presets.h"
#include "modelgen/synthetic_vocab.h"

namespace sy::fuzz {
namespace {

struct SeedModel {
  const char* preset;
  const char* type;  // quantisation scheme
  std::vector<std::pair<std::string, std::string>> set;
};

// Widths stay multiples of 32 (the q8_0 block); one or two blocks, four experts, the smallest vocabulary.
std::vector<SeedModel> seed_models() {
  const std::vector<std::pair<std::string, std::string>> gqa = {
      {"block_count", "1"},          {"context_length", "256"},     {"embedding_length", "32"},
      {"feed_forward_length", "32"}, {"attention.head_count", "2"}, {"attention.head_count_kv", "1"},
      {"expert_count", "4"},         {"expert_used_count", "2"}};
  auto with = [](std::vector<std::pair<std::string, std::string>> base,
                 std::vector<std::pair<std::string, std::string>> more) {
    base.insert(base.end(), more.begin(), more.end());
    return base;
  };
  const std::vector<std::pair<std::string, std::string>> mla = {{"block_count", "2"},
                                                                {"context_length", "256"},
                                                                {"embedding_length", "32"},
                                                                {"feed_forward_length", "32"},
                                                                {"attention.head_count", "2"},
                                                                {"expert_count", "4"},
                                                                {"expert_used_count", "2"},
                                                                {"attention.kv_lora_rank", "32"},
                                                                {"attention.key_length", "64"},
                                                                {"attention.value_length", "32"},
                                                                {"attention.key_length_mla", "64"},
                                                                {"attention.value_length_mla", "32"},
                                                                {"rope.dimension_count", "32"},
                                                                {"expert_feed_forward_length", "32"},
                                                                {"expert_shared_count", "1"}};
  return {
      {"qwen3moe-tiny", "q8_0",
       with(gqa,
            {{"attention.key_length", "32"}, {"attention.value_length", "32"}, {"expert_feed_forward_length", "32"}})},
      {"olmoe-tiny", "q8_0", with(gqa, {{"attention.head_count_kv", "2"}})},
      {"mixtral-tiny", "q8_0", with(gqa, {{"rope.dimension_count", "16"}})},
      {"qwen2moe-tiny", "q8_0",
       with(gqa, {{"expert_feed_forward_length", "32"}, {"expert_shared_feed_forward_length", "32"}})},
      // A dense block, then an MoE block of two experts.
      {"deepseek2-lite-tiny", "q8_0", with(mla, {{"expert_count", "2"}, {"expert_used_count", "1"}})},
      // One MoE block: groups, sigmoid gating and exp_probs_b.
      {"deepseek3-tiny", "q8_0",
       with(mla, {{"block_count", "1"},
                  {"leading_dense_block_count", "0"},
                  {"attention.q_lora_rank", "32"},
                  {"expert_group_count", "2"},
                  {"expert_group_used_count", "1"}})},
      // Two blocks: sliding-window attention on the even one.
      {"gpt-oss-tiny", "q8_0",
       with(gqa, {{"block_count", "2"},
                  {"expert_count", "2"},
                  {"expert_used_count", "1"},
                  {"attention.key_length", "32"},
                  {"attention.value_length", "32"},
                  {"attention.sliding_window", "8"},
                  {"expert_feed_forward_length", "32"}})},
      {"qwen3moe-tiny", "f16",
       with(gqa, {{"attention.key_length", "16"},
                  {"attention.value_length", "16"},
                  {"expert_feed_forward_length", "16"},
                  {"embedding_length", "16"},
                  {"feed_forward_length", "16"}})},
  };
}

}  // namespace

Result<std::vector<SeedInput>> model_load_seed_inputs(const std::filesystem::path& scratch) {
  std::vector<SeedInput> out;
  for (const SeedModel& s : seed_models()) {
    const modelgen::Preset* preset = modelgen::find_preset(s.preset);
    if (preset == nullptr) return fail(ErrorCode::kNotFound, "model_load seeds: no preset {}", s.preset);
    std::vector<modelgen::Override> overrides;
    for (const auto& [key, value] : s.set) overrides.push_back({key, value});
    auto metadata = modelgen::preset_metadata(*preset, overrides, modelgen::kMinVocab);
    if (!metadata) return tl::unexpected(metadata.error());
    auto scheme = modelgen::parse_scheme(s.type);
    if (!scheme) return tl::unexpected(scheme.error());
    auto planned = modelgen::plan_model(std::move(*metadata), *scheme);
    if (!planned) return tl::unexpected(planned.error());
    const std::string name = fmt::format("{}.{}.gguf", s.preset, s.type);
    const auto path = scratch / name;
    modelgen::GenerateOptions options;
    options.seed = 7;
    if (auto st = modelgen::generate_model(path, *planned, options); !st) return tl::unexpected(st.error());
    std::ifstream in(path, std::ios::binary);
    out.push_back({name, {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()}});
  }
  return out;
}

}  // namespace sy::fuzz
