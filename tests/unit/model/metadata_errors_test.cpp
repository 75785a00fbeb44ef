// Every way a model's metadata can be wrong gives an error naming the key and the file.
#include <gtest/gtest.h>

#include <string>

#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "model/arch_spec.h"
#include "support/test_support.h"

namespace sy::model {
namespace {

// A tensor-less GGUF with the given metadata; returns the error of load_config (empty when it succeeds).
std::string load_error(const std::vector<std::pair<std::string, gguf::Value>>& kv,
                       const std::vector<std::string>& f32_tensors = {}) {
  // One directory per test: ctest runs tests of this file in parallel.
  const auto path = test::scratch_dir(std::string("metadata_errors_") +
                                      ::testing::UnitTest::GetInstance()->current_test_info()->name()) /
                    "m.gguf";
  gguf::Writer w;
  for (const auto& [k, v] : kv) w.set(k, v);
  for (const auto& name : f32_tensors) EXPECT_TRUE(w.add_tensor({.name = name, .type = TensorType::kF32, .ne = {4}}));
  EXPECT_TRUE(w.begin(path));
  const std::vector<uint8_t> zeros(16, 0);
  for (size_t i = 0; i < f32_tensors.size(); ++i) EXPECT_TRUE(w.write_tensor_data(zeros));
  EXPECT_TRUE(w.finish());
  auto file = gguf::File::open(path);
  EXPECT_TRUE(file) << file.error().message;
  auto config = load_config(*file);
  return config ? std::string() : config.error().message;
}

std::vector<std::pair<std::string, gguf::Value>> qwen3moe_keys() {
  return {{"general.architecture", "qwen3moe"},
          {"qwen3moe.embedding_length", uint32_t{64}},
          {"qwen3moe.block_count", uint32_t{2}},
          {"qwen3moe.attention.head_count", uint32_t{4}},
          {"qwen3moe.attention.head_count_kv", uint32_t{2}},
          {"qwen3moe.expert_count", uint32_t{8}},
          {"qwen3moe.expert_used_count", uint32_t{2}},
          {"qwen3moe.expert_feed_forward_length", uint32_t{32}},
          {"qwen3moe.vocab_size", uint32_t{100}}};
}

TEST(ModelMetadata, CompleteKeysLoad) { EXPECT_EQ(load_error(qwen3moe_keys()), ""); }

TEST(ModelMetadata, MissingRequiredKeyIsNamed) {
  auto kv = qwen3moe_keys();
  std::erase_if(kv, [](const auto& p) { return p.first == "qwen3moe.expert_count"; });
  EXPECT_NE(load_error(kv).find("missing required metadata key qwen3moe.expert_count"), std::string::npos);
}

TEST(ModelMetadata, WrongValueTypeIsNamed) {
  auto kv = qwen3moe_keys();
  kv.push_back({"qwen3moe.attention.key_length", "wide"});
  EXPECT_NE(load_error(kv).find("qwen3moe.attention.key_length must be an unsigned integer"), std::string::npos);
}

TEST(ModelMetadata, MoreUsedExpertsThanExpertsIsRejected) {
  auto kv = qwen3moe_keys();
  kv.push_back({"qwen3moe.expert_used_count", uint32_t{9}});
  EXPECT_NE(load_error(kv).find("expert_used_count = 9 is out of range"), std::string::npos);
}

TEST(ModelMetadata, HeadsMustDivide) {
  auto kv = qwen3moe_keys();
  kv.push_back({"qwen3moe.attention.head_count_kv", uint32_t{3}});
  EXPECT_NE(load_error(kv).find("head_count_kv = 3"), std::string::npos);
}

TEST(ModelMetadata, UnknownArchitectureListsTheSupportedOnes) {
  const std::string err = load_error({{"general.architecture", "mamba"}});
  EXPECT_NE(err.find("architecture 'mamba' is not supported"), std::string::npos) << err;
  EXPECT_NE(err.find("deepseek2"), std::string::npos) << err;
}

TEST(ModelMetadata, MissingArchitecture) {
  EXPECT_NE(load_error({{"general.name", "x"}}).find("general.architecture"), std::string::npos);
}

TEST(ModelMetadata, UnsupportedGatingFunction) {
  const std::string err = load_error({{"general.architecture", "deepseek2"},
                                      {"deepseek2.embedding_length", uint32_t{64}},
                                      {"deepseek2.block_count", uint32_t{2}},
                                      {"deepseek2.vocab_size", uint32_t{100}},
                                      {"deepseek2.attention.head_count", uint32_t{4}},
                                      {"deepseek2.attention.kv_lora_rank", uint32_t{32}},
                                      {"deepseek2.rope.dimension_count", uint32_t{16}},
                                      {"deepseek2.attention.key_length_mla", uint32_t{32}},
                                      {"deepseek2.attention.value_length_mla", uint32_t{16}},
                                      {"deepseek2.expert_count", uint32_t{8}},
                                      {"deepseek2.expert_used_count", uint32_t{2}},
                                      {"deepseek2.expert_gating_func", uint32_t{4}}});
  EXPECT_NE(err.find("deepseek2.expert_gating_func = 4 is not supported"), std::string::npos) << err;
}

TEST(ModelMetadata, LegacyDeepseekLayoutIsExplained) {
  const std::string err = load_error({{"general.architecture", "deepseek2"},
                                      {"deepseek2.embedding_length", uint32_t{64}},
                                      {"deepseek2.block_count", uint32_t{2}},
                                      {"deepseek2.vocab_size", uint32_t{100}},
                                      {"deepseek2.attention.head_count", uint32_t{4}},
                                      {"deepseek2.attention.kv_lora_rank", uint32_t{32}},
                                      {"deepseek2.rope.dimension_count", uint32_t{16}}});
  EXPECT_NE(err.find("legacy fused attn_kv_b"), std::string::npos) << err;
}

// Forged hyper-parameters fail where the metadata is read, before anything is sized from them, with an error
// naming the key and the file (a 10^7 block_count used to cost 2.2 GB and 6 s first; 2^31 and a 2^32 - 1
// context_length a std::bad_alloc).
void expect_out_of_range(const std::string& key, gguf::Value value, const std::string& shown) {
  auto kv = qwen3moe_keys();
  kv.emplace_back("qwen3moe." + key, std::move(value));
  const std::string err = load_error(kv);
  EXPECT_NE(err.find("m.gguf: metadata key qwen3moe." + key + " = " + shown + " is out of range"), std::string::npos)
      << err;
}

TEST(ModelMetadata, ForgedBlockCountsFailFast) {
  expect_out_of_range("block_count", uint32_t{10'000'000}, "10000000");
  expect_out_of_range("block_count", uint32_t{1} << 31, "2147483648");
  expect_out_of_range("block_count", uint32_t{0}, "0");
}

TEST(ModelMetadata, ForgedContextLengthFailsFast) {
  expect_out_of_range("context_length", uint32_t{0xffffffff}, "4294967295");
  expect_out_of_range("context_length", uint32_t{(1 << 24) + 1}, "16777217");
}

TEST(ModelMetadata, ForgedWidthsAndCountsFailFast) {
  expect_out_of_range("embedding_length", uint32_t{0xffffffff}, "4294967295");
  expect_out_of_range("attention.head_count", uint32_t{1} << 31, "2147483648");
  expect_out_of_range("attention.key_length", uint32_t{1} << 30, "1073741824");
  // Bounded before narrowing to int32: 2^32 - 1 must not wrap to -1.
  expect_out_of_range("expert_count", uint32_t{0xffffffff}, "4294967295");
  expect_out_of_range("expert_used_count", uint32_t{0xffffffff}, "4294967295");
  expect_out_of_range("rope.dimension_count", uint32_t{0xffffffff}, "4294967295");
}

// DeepSeek's shared expert width is expert_shared_count × expert_feed_forward_length: with both at 2^32 - 1 the
// product once overflowed int64 before validation saw it (tests/fuzz/regressions/model_load/).
TEST(ModelMetadata, ForgedSharedExpertCountFailsBeforeItsProduct) {
  std::vector<std::pair<std::string, gguf::Value>> kv = {{"general.architecture", "deepseek2"},
                                                         {"deepseek2.embedding_length", uint32_t{64}},
                                                         {"deepseek2.block_count", uint32_t{2}},
                                                         {"deepseek2.vocab_size", uint32_t{100}},
                                                         {"deepseek2.attention.head_count", uint32_t{4}},
                                                         {"deepseek2.attention.kv_lora_rank", uint32_t{32}},
                                                         {"deepseek2.rope.dimension_count", uint32_t{16}},
                                                         {"deepseek2.attention.key_length_mla", uint32_t{32}},
                                                         {"deepseek2.attention.value_length_mla", uint32_t{16}},
                                                         {"deepseek2.expert_count", uint32_t{8}},
                                                         {"deepseek2.expert_used_count", uint32_t{2}},
                                                         {"deepseek2.feed_forward_length", uint32_t{64}},
                                                         {"deepseek2.expert_feed_forward_length", uint32_t{32}},
                                                         {"deepseek2.expert_shared_count", uint32_t{0xffffffff}}};
  std::string err = load_error(kv);
  EXPECT_NE(err.find("metadata key deepseek2.expert_shared_count = 4294967295 is out of range (0..16384)"),
            std::string::npos)
      << err;
  kv.back().second = uint32_t{1};
  kv[kv.size() - 2].second = uint32_t{0xffffffff};
  err = load_error(kv);
  EXPECT_NE(err.find("metadata key deepseek2.expert_feed_forward_length = 4294967295 is out of range (1..1048576)"),
            std::string::npos)
      << err;
}

TEST(ModelMetadata, BlockCountMustMatchTheBlockTensors) {
  auto kv = qwen3moe_keys();  // block_count 2
  EXPECT_EQ(load_error(kv, {"blk.0.attn_norm.weight", "blk.1.attn_norm.weight", "output_norm.weight"}), "");
  const std::string err =
      load_error(kv, {"blk.0.attn_norm.weight", "blk.1.attn_norm.weight", "blk.2.attn_norm.weight"});
  EXPECT_NE(err.find("metadata key qwen3moe.block_count = 2 but the file's tensors are for 3 blocks (blk.0 .. blk.2)"),
            std::string::npos)
      << err;
  kv.emplace_back("qwen3moe.block_count", uint32_t{1000});
  const std::string err2 = load_error(kv, {"blk.0.attn_norm.weight"});
  EXPECT_NE(err2.find("block_count = 1000 but the file's tensors are for 1 blocks"), std::string::npos) << err2;
}

}  // namespace
}  // namespace sy::model
