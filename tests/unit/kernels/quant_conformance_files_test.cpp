// Dequantises every quantised tensor of llama-quantize's outputs in ../shared/conformance and compares it with
// the same tensor of the F32/F16 file it was made from, within each type's error bound from the block math.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "format/gguf_reader.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "support/test_support.h"

namespace sy::kernels {
namespace {

std::vector<float> to_f32(const gguf::TensorInfo& t) {
  const auto n = static_cast<size_t>(t.n_elements());
  std::vector<float> out(n);
  const QuantKernels* k = find_kernels(t.type);
  EXPECT_NE(k, nullptr) << t.name << ": " << type_name(t.type);
  if (k != nullptr) k->dequantize_row(t.data.data(), out.data(), static_cast<int64_t>(n));
  return out;
}

// ggml's reference quantisers for the 32-element formats round to the nearest code against the unrounded
// scale d, then store d as f16: |err| ≤ steps·|d| + max_code·|d|·2^-11 (both slightly widened for d's rounding).
void check_blockwise(const gguf::TensorInfo& t, const std::vector<float>& x, const std::vector<float>& y) {
  float steps = 0.5f, max_code = 127;
  if (t.type == TensorType::kQ5_0) steps = 1.f, max_code = 16;  // the top code is clipped: up to one step
  if (t.type == TensorType::kQ4_0) steps = 1.f, max_code = 8;
  const size_t block_bytes = traits(t.type).block_bytes;
  for (size_t b = 0; b < x.size() / kQK; ++b) {
    uint16_t d16;
    std::memcpy(&d16, t.data.data() + b * block_bytes, 2);
    const float d = std::fabs(fp16_to_fp32(d16));
    const float bound = steps * d * (1 + 0x1p-10f) + max_code * d * 0x1p-10f + 1e-30f;
    for (size_t j = 0; j < kQK; ++j) {
      const size_t i = b * kQK + j;
      ASSERT_LE(std::fabs(x[i] - y[i]), bound) << t.name << " element " << i;
    }
  }
}

// MXFP4 (ggml's reference): |err| < 2u with u = 2^(e−127), see QuantRoundtrip.Mxfp4WithinTwoUnits.
void check_mxfp4(const gguf::TensorInfo& t, const std::vector<float>& x, const std::vector<float>& y) {
  for (size_t b = 0; b < x.size() / kQK; ++b) {
    const float u = 2 * mxfp4_scale(t.data[b * sizeof(BlockMXFP4)]);
    for (size_t j = 0; j < kQK; ++j) {
      const size_t i = b * kQK + j;
      ASSERT_LE(std::fabs(x[i] - y[i]), 2 * u) << t.name << " element " << i;
    }
  }
}

// K formats: RMS error relative to the tensor's RMS, bounds as in QuantRoundtrip.KFormatsRmsError (ggml's
// searching quantiser does better than our plain one, never worse than these).
void check_rms(const gguf::TensorInfo& t, const std::vector<float>& x, const std::vector<float>& y) {
  const std::map<TensorType, double> bounds = {{TensorType::kQ2_K, 0.5},
                                               {TensorType::kQ3_K, 0.2},
                                               {TensorType::kQ4_K, 0.12},
                                               {TensorType::kQ5_K, 0.06},
                                               {TensorType::kQ6_K, 0.03}};
  double err = 0, ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
    ref += static_cast<double>(x[i]) * x[i];
  }
  const double rel = std::sqrt(err / ref);
  EXPECT_LE(rel, bounds.at(t.type)) << t.name << " (" << type_name(t.type) << ")";
  EXPECT_GT(rel, 0.0) << t.name;
}

void compare_files(const std::string& quantised, const std::string& original, std::map<TensorType, int>& seen) {
  const auto dir = test::conformance_dir() / "models";
  auto q = gguf::File::open(dir / quantised);
  ASSERT_TRUE(q) << q.error().message;
  auto o = gguf::File::open(dir / original);
  ASSERT_TRUE(o) << o.error().message;
  for (const auto& t : q->tensors()) {
    if (!traits(t.type).quantized) continue;
    SCOPED_TRACE(quantised + ": " + t.name);
    const gguf::TensorInfo* src = o->find_tensor(t.name);
    ASSERT_NE(src, nullptr);
    ASSERT_EQ(src->ne, t.ne);
    const auto x = to_f32(*src);
    const auto y = to_f32(t);
    ++seen[t.type];
    switch (t.type) {
      case TensorType::kQ8_0:
      case TensorType::kQ5_0:
      case TensorType::kQ4_0: check_blockwise(t, x, y); break;
      case TensorType::kMXFP4: check_mxfp4(t, x, y); break;
      case TensorType::kQ2_K:
      case TensorType::kQ3_K:
      case TensorType::kQ4_K:
      case TensorType::kQ5_K:
      case TensorType::kQ6_K: check_rms(t, x, y); break;
      default: ADD_FAILURE() << "no error bound for " << type_name(t.type);
    }
  }
}

TEST(QuantConformanceFiles, Q8_0FilesMatchTheirF32Originals) {
  std::map<TensorType, int> seen;
  for (const char* name : {"deepseek2-lite-tiny", "deepseek3-tiny", "gpt-oss-tiny", "mixtral-tiny", "olmoe-tiny",
                           "qwen2moe-tiny", "qwen3moe-tiny"})
    compare_files(std::string(name) + ".q8_0.gguf", std::string(name) + ".f32.gguf", seen);
  EXPECT_GT(seen[TensorType::kQ8_0], 50);
}

TEST(QuantConformanceFiles, Q4_K_MFilesMatchTheirF16Originals) {
  std::map<TensorType, int> seen;
  for (const char* name : {"deepseek3-kq", "qwen3moe-kq"})
    compare_files(std::string(name) + ".q4_k_m.gguf", std::string(name) + ".f16.gguf", seen);
  for (TensorType t : {TensorType::kQ4_K, TensorType::kQ5_K, TensorType::kQ6_K, TensorType::kQ8_0, TensorType::kQ5_0})
    EXPECT_GT(seen[t], 0) << type_name(t) << " should occur in the Q4_K_M files";
}

TEST(QuantConformanceFiles, Mxfp4MoeFileMatchesItsF32Original) {
  std::map<TensorType, int> seen;
  compare_files("gpt-oss-tiny.mxfp4_moe.gguf", "gpt-oss-tiny.f32.gguf", seen);
  EXPECT_GT(seen[TensorType::kMXFP4], 0);
  EXPECT_GT(seen[TensorType::kQ8_0], 0);
}

}  // namespace
}  // namespace sy::kernels
