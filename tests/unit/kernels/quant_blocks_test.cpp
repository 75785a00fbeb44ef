// Hand-built blocks with known values, one per type: the layouts of reference A.8, byte by byte.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/fp16.h"
#include "core/tensor_type.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"

namespace sy::kernels {
namespace {

std::vector<float> dequant(TensorType type, const void* block, int64_t n) {
  const QuantKernels* k = find_kernels(type);
  EXPECT_NE(k, nullptr) << type_name(type);
  std::vector<float> out(static_cast<size_t>(n));
  k->dequantize_row(block, out.data(), n);
  return out;
}

TEST(QuantBlocks, EveryKernelTypeHasMatchingBlockGeometry) {
  const std::pair<TensorType, size_t> sizes[] = {
      {TensorType::kQ4_0, sizeof(BlockQ4_0)},  {TensorType::kQ4_1, sizeof(BlockQ4_1)},
      {TensorType::kQ5_0, sizeof(BlockQ5_0)},  {TensorType::kQ5_1, sizeof(BlockQ5_1)},
      {TensorType::kQ8_0, sizeof(BlockQ8_0)},  {TensorType::kQ8_1, sizeof(BlockQ8_1)},
      {TensorType::kQ2_K, sizeof(BlockQ2_K)},  {TensorType::kQ3_K, sizeof(BlockQ3_K)},
      {TensorType::kQ4_K, sizeof(BlockQ4_K)},  {TensorType::kQ5_K, sizeof(BlockQ5_K)},
      {TensorType::kQ6_K, sizeof(BlockQ6_K)},  {TensorType::kQ8_K, sizeof(BlockQ8_K)},
      {TensorType::kMXFP4, sizeof(BlockMXFP4)}};
  for (auto [type, size] : sizes) {
    EXPECT_EQ(traits(type).block_bytes, size) << type_name(type);
    EXPECT_NE(find_kernels(type), nullptr) << type_name(type);
  }
  for (const QuantKernels* k : all_kernels()) {
    ASSERT_NE(k->dequantize_row, nullptr);
    const QuantKernels* act = find_kernels(k->vec_dot_type);
    ASSERT_NE(act, nullptr) << type_name(k->type);
    EXPECT_NE(act->quantize_row, nullptr) << "activation type of " << type_name(k->type);
  }
  EXPECT_EQ(find_kernels(TensorType::kIQ2_XXS), nullptr);
}

TEST(QuantBlocks, ActivationTypesFollowGgml) {
  const std::pair<TensorType, TensorType> pairs[] = {
      {TensorType::kQ4_0, TensorType::kQ8_0}, {TensorType::kQ5_0, TensorType::kQ8_0},
      {TensorType::kQ8_0, TensorType::kQ8_0}, {TensorType::kMXFP4, TensorType::kQ8_0},
      {TensorType::kQ4_1, TensorType::kQ8_1}, {TensorType::kQ5_1, TensorType::kQ8_1},
      {TensorType::kQ2_K, TensorType::kQ8_K}, {TensorType::kQ3_K, TensorType::kQ8_K},
      {TensorType::kQ4_K, TensorType::kQ8_K}, {TensorType::kQ5_K, TensorType::kQ8_K},
      {TensorType::kQ6_K, TensorType::kQ8_K}, {TensorType::kF16, TensorType::kF16},
      {TensorType::kBF16, TensorType::kBF16}, {TensorType::kF32, TensorType::kF32}};
  for (auto [w, a] : pairs) EXPECT_EQ(find_kernels(w)->vec_dot_type, a) << type_name(w);
}

TEST(QuantBlocks, FloatTypes) {
  const uint16_t h[2] = {0x3c00, 0xc500};  // 1.0, -5.0
  EXPECT_EQ(dequant(TensorType::kF16, h, 2), (std::vector<float>{1.f, -5.f}));
  const uint16_t b[2] = {0x3f80, 0xc0a0};  // 1.0, -5.0
  EXPECT_EQ(dequant(TensorType::kBF16, b, 2), (std::vector<float>{1.f, -5.f}));
}

TEST(QuantBlocks, Q4_0) {
  BlockQ4_0 b{};
  b.d = 0x3800;  // 0.5
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto y = dequant(TensorType::kQ4_0, &b, 32);
  EXPECT_EQ(y[0], -4.f);
  EXPECT_EQ(y[15], 3.5f);
  EXPECT_EQ(y[16], 3.5f);
  EXPECT_EQ(y[31], -4.f);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(y[j], 0.5f * (j - 8)) << j;
}

TEST(QuantBlocks, Q4_1) {
  BlockQ4_1 b{};
  b.d = 0x3400;  // 0.25
  b.m = 0xbc00;  // -1
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | (3 << 4));
  const auto y = dequant(TensorType::kQ4_1, &b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.25f * j - 1.f);
    EXPECT_EQ(y[j + 16], -0.25f);
  }
}

TEST(QuantBlocks, Q5_0) {
  BlockQ5_0 b{};
  b.d = 0x3c00;                     // 1
  const uint32_t qh = 0xffff0000u;  // fifth bit set for elements 16..31 only
  std::memcpy(b.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | (j << 4));
  const auto y = dequant(TensorType::kQ5_0, &b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], j - 16.f);
    EXPECT_EQ(y[j + 16], static_cast<float>(j));
  }
}

TEST(QuantBlocks, Q5_1) {
  BlockQ5_1 b{};
  b.d = 0x4000;                                    // 2
  b.m = 0x3800;                                    // 0.5
  const uint8_t qh[4] = {0x01, 0x00, 0x00, 0x80};  // element 0 and element 31 have the fifth bit
  std::memcpy(b.qh, qh, 4);
  for (int j = 0; j < 16; ++j) b.qs[j] = 0x21;  // low code 1, high code 2
  const auto y = dequant(TensorType::kQ5_1, &b, 32);
  EXPECT_EQ(y[0], 2.f * 17 + 0.5f);
  EXPECT_EQ(y[1], 2.5f);
  EXPECT_EQ(y[16], 4.5f);
  EXPECT_EQ(y[31], 2.f * 18 + 0.5f);
}

TEST(QuantBlocks, Q8_0AndQ8_1) {
  BlockQ8_0 b{};
  b.d = 0x3000;  // 0.125
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j - 16);
  const auto y = dequant(TensorType::kQ8_0, &b, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 0.125f * (j - 16));
  BlockQ8_1 c{};
  c.d = 0xc000;  // -2
  c.s = 0x7bff;  // ignored by dequantisation
  for (int j = 0; j < 32; ++j) c.qs[j] = static_cast<int8_t>(j);
  const auto z = dequant(TensorType::kQ8_1, &c, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(z[j], -2.f * j);
}

TEST(QuantBlocks, Q8_K) {
  BlockQ8_K b{};
  b.d = -0.5f;
  for (int j = 0; j < 256; ++j) b.qs[j] = static_cast<int8_t>(j - 128);
  const auto y = dequant(TensorType::kQ8_K, &b, 256);
  for (int j = 0; j < 256; ++j) EXPECT_EQ(y[j], -0.5f * (j - 128));
}

TEST(QuantBlocks, Mxfp4) {
  BlockMXFP4 b{};
  b.e = 127;  // 2^0: codes are plain E2M1 values
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto y = dequant(TensorType::kMXFP4, &b, 32);
  const float e2m1[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, 0, -0.5f, -1, -1.5f, -2, -3, -4, -6};
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], e2m1[j]) << j;
    EXPECT_EQ(y[j + 16], e2m1[15 - j]) << j;
  }
  EXPECT_EQ(mxfp4_scale(0), 0x1p-128f);
  EXPECT_EQ(mxfp4_scale(1), 0x1p-127f);
  EXPECT_EQ(mxfp4_scale(2), 0x1p-126f);
  EXPECT_EQ(mxfp4_scale(128), 1.f);
  EXPECT_EQ(mxfp4_scale(254), 0x1p126f);
}

// Packs 8 (scale, min) 6-bit pairs the way A.8 describes unpacking them.
void pack_k4_scales(const int sc[8], const int m[8], uint8_t out[12]) {
  std::memset(out, 0, 12);
  for (int j = 0; j < 4; ++j) {
    out[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    out[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    out[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
}

TEST(QuantBlocks, Q4_K) {
  BlockQ4_K b{};
  b.d = 0x3c00;     // 1
  b.dmin = 0x3800;  // 0.5
  const int sc[8] = {1, 2, 17, 63, 5, 33, 48, 16};
  const int m[8] = {63, 0, 1, 31, 32, 7, 50, 17};
  pack_k4_scales(sc, m, b.scales);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>((i % 16) | ((15 - i % 16) << 4));
  const auto y = dequant(TensorType::kQ4_K, &b, 256);
  EXPECT_EQ(y[0], -31.5f);                // sub-block 0: 1·0 − 0.5·63
  EXPECT_EQ(y[32 + 0], 2.f * 15 - 0.f);   // sub-block 1 takes the high nibbles of qs[0..31]
  EXPECT_EQ(y[64 + 3], 17.f * 3 - 0.5f);  // chunk 1 uses qs[32..63]
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      EXPECT_EQ(y[64 * c + l], sc[2 * c] * (l % 16) - 0.5f * m[2 * c]);
      EXPECT_EQ(y[64 * c + 32 + l], sc[2 * c + 1] * (15 - l % 16) - 0.5f * m[2 * c + 1]);
    }
}

TEST(QuantBlocks, Q5_K) {
  BlockQ5_K b{};
  b.d = 0x3800;     // 0.5
  b.dmin = 0x3c00;  // 1
  const int sc[8] = {2, 4, 6, 8, 40, 42, 44, 46};
  const int m[8] = {0, 1, 2, 3, 20, 21, 22, 23};
  pack_k4_scales(sc, m, b.scales);
  for (int l = 0; l < 32; ++l) b.qh[l] = static_cast<uint8_t>(l * 7);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>(i * 13);
  const auto y = dequant(TensorType::kQ5_K, &b, 256);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      const int lo = (b.qs[32 * c + l] & 15) + (((b.qh[l] >> (2 * c)) & 1) ? 16 : 0);
      const int hi = (b.qs[32 * c + l] >> 4) + (((b.qh[l] >> (2 * c + 1)) & 1) ? 16 : 0);
      EXPECT_EQ(y[64 * c + l], 0.5f * sc[2 * c] * lo - m[2 * c]);
      EXPECT_EQ(y[64 * c + 32 + l], 0.5f * sc[2 * c + 1] * hi - m[2 * c + 1]);
    }
  // qh[1] = 7: bits 0, 1, 2 set: element 1 (+16), 33 (+16), 65 (+16), 97 (none).
  EXPECT_EQ(y[1], 0.5f * 2 * ((b.qs[1] & 15) + 16));
}

TEST(QuantBlocks, Q6_K) {
  BlockQ6_K b{};
  b.d = 0x3800;  // 0.5
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<int8_t>(g - 8);
  for (int i = 0; i < 128; ++i) b.ql[i] = static_cast<uint8_t>(i * 11 + 3);
  for (int i = 0; i < 64; ++i) b.qh[i] = static_cast<uint8_t>(i * 37 + 1);
  const auto y = dequant(TensorType::kQ6_K, &b, 256);
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const uint8_t* L = b.ql + 64 * h;
      const uint8_t H = b.qh[32 * h + l];
      const int8_t* s = b.scales + 8 * h;
      const int t = l / 16;
      EXPECT_EQ(y[128 * h + l], 0.5f * s[t] * (((L[l] & 15) | ((H & 3) << 4)) - 32));
      EXPECT_EQ(y[128 * h + 32 + l], 0.5f * s[t + 2] * (((L[l + 32] & 15) | (((H >> 2) & 3) << 4)) - 32));
      EXPECT_EQ(y[128 * h + 64 + l], 0.5f * s[t + 4] * (((L[l] >> 4) | (((H >> 4) & 3) << 4)) - 32));
      EXPECT_EQ(y[128 * h + 96 + l], 0.5f * s[t + 6] * (((L[l + 32] >> 4) | (((H >> 6) & 3) << 4)) - 32));
    }
  // Element 0: ql[0] = 3, qh[0] = 1 → q = 3 | 16 = 19, scale −8: 0.5 · −8 · (19 − 32) = 52.
  EXPECT_EQ(y[0], 52.f);
}

TEST(QuantBlocks, Q3_K) {
  BlockQ3_K b{};
  b.d = 0x3c00;  // 1
  // Raw 6-bit scales 4g (signed value 4g − 32): low nibbles in bytes 0..7, high 2 bits in bytes 8..11.
  for (int g = 0; g < 16; ++g) {
    const int raw = 4 * g;
    if (g < 8)
      b.scales[g] |= static_cast<uint8_t>(raw & 15);
    else
      b.scales[g - 8] |= static_cast<uint8_t>((raw & 15) << 4);
    b.scales[8 + g % 4] |= static_cast<uint8_t>((raw >> 4) << (2 * (g / 4)));
  }
  for (int i = 0; i < 64; ++i) b.qs[i] = static_cast<uint8_t>(i * 29 + 5);
  for (int i = 0; i < 32; ++i) b.hmask[i] = static_cast<uint8_t>(i * 53 + 9);
  const auto y = dequant(TensorType::kQ3_K, &b, 256);
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, k = (e % 128) / 32, l = e % 32;
    const int low = (b.qs[32 * h + l] >> (2 * k)) & 3;
    const bool high = (b.hmask[l] >> (4 * h + k)) & 1;
    EXPECT_EQ(y[e], static_cast<float>((4 * (e / 16) - 32) * (low - (high ? 0 : 4)))) << e;
  }
  // Element 0: qs[0] = 5 → low 1; hmask[0] = 9 has bit 0 → no subtraction; scale −32.
  EXPECT_EQ(y[0], -32.f);
}

TEST(QuantBlocks, Q2_K) {
  BlockQ2_K b{};
  b.d = 0x3800;     // 0.5
  b.dmin = 0x3400;  // 0.25
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<uint8_t>(g | ((15 - g) << 4));
  for (int i = 0; i < 64; ++i) b.qs[i] = static_cast<uint8_t>(i * 23 + 1);
  const auto y = dequant(TensorType::kQ2_K, &b, 256);
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, k = (e % 128) / 32, l = e % 32, g = e / 16;
    const int q = (b.qs[32 * h + l] >> (2 * k)) & 3;
    EXPECT_EQ(y[e], 0.5f * g * q - 0.25f * (15 - g)) << e;
  }
}

}  // namespace
}  // namespace sy::kernels
