// Byte layouts of the quantised blocks, exactly as GGUF files store them (ggml-common.h; reference A.8).
// Shared by each type's scalar file and its per-ISA files. All f16 fields are IEEE binary16, little-endian;
// blocks are packed with no padding, which the static_asserts pin down.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "core/fp16.h"

namespace sy::kernels {

inline constexpr int kQK = 32;    // elements per block of the 32-element formats
inline constexpr int kQKK = 256;  // elements per super-block of the K formats

struct BlockQ4_0 {
  uint16_t d;      // f16 scale
  uint8_t qs[16];  // element j in the low nibble of qs[j], element j+16 in the high nibble
};
static_assert(sizeof(BlockQ4_0) == 18);

struct BlockQ4_1 {
  uint16_t d;  // f16 scale
  uint16_t m;  // f16 minimum
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_1) == 20);

struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];  // fifth bits: bit j of the little-endian u32 belongs to element j
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_0) == 22);

struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_1) == 24);

struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Activation type for Q4_1/Q5_1: s caches d·Σqs (as f16) so the weights' minimum costs one multiply.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_1) == 36);

struct BlockQ2_K {
  uint8_t scales[16];  // per 16 elements: low nibble scale, high nibble min
  uint8_t qs[64];      // 2-bit quants
  uint16_t d;          // f16 super-scale of the scales
  uint16_t dmin;       // f16 super-scale of the mins
};
static_assert(sizeof(BlockQ2_K) == 84);

struct BlockQ3_K {
  uint8_t hmask[32];   // high (third) bit of each quant
  uint8_t qs[64];      // low 2 bits
  uint8_t scales[12];  // 16 signed 6-bit scales, offset by 32
  uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];  // 8 (scale, min) pairs of 6 bits, see scale_min_k4
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ4_K) == 144);

struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ5_K) == 176);

struct BlockQ6_K {
  uint8_t ql[128];    // low 4 bits
  uint8_t qh[64];     // high 2 bits
  int8_t scales[16];  // per 16 elements
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Activation type for the K formats. d is a plain float (not f16); bsums[g] = Σ qs[16g .. 16g+15] lets the
// weights' minimums be applied per 16 elements without touching the quants again.
struct BlockQ8_K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];
};
static_assert(sizeof(BlockQ8_K) == 292);

struct BlockMXFP4 {
  uint8_t e;       // E8M0 shared exponent
  uint8_t qs[16];  // E2M1 codes, element j low nibble, element j+16 high nibble
};
static_assert(sizeof(BlockMXFP4) == 17);

// The MXFP4 code table, doubled so it is integral; mxfp4_scale halves the scale to compensate.
inline constexpr int8_t kMxfp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// The helpers below have internal linkage: the per-ISA files include this header too, and an inline function
// with external linkage compiled there with AVX-512 flags could be the copy the linker keeps for everyone.
namespace {  // NOLINT(cert-dcl59-cpp, google-build-namespaces)

// 2^(e-128): the E8M0 scale 2^(e-127) halved for the doubled table. e = 0 and 1 are float subnormals.
inline float mxfp4_scale(uint8_t e) {
  const uint32_t bits = e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e - 1) << 23);
  return std::bit_cast<float>(bits);
}

// The 6-bit (scale, min) pair of sub-block j (0..7) of a Q4_K/Q5_K block.
inline void scale_min_k4(int j, const uint8_t* s, uint8_t& scale, uint8_t& min) {
  if (j < 4) {
    scale = s[j] & 63;
    min = s[j + 4] & 63;
  } else {
    scale = static_cast<uint8_t>((s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4));
    min = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// All 8 (scale, min) pairs of a Q4_K/Q5_K block at once, as bytes: scales in out[0..1], mins in out[2..3]
// (byte j of the pair of words is sub-block j). Word-wide bit operations instead of 8 scale_min_k4 calls.
inline void scale_min_k4_all(const uint8_t* s, uint32_t out[4]) {
  uint32_t w[3];
  std::memcpy(w, s, 12);
  constexpr uint32_t k6 = 0x3f3f3f3f, k4 = 0x0f0f0f0f, k2 = 0x03030303;
  out[0] = w[0] & k6;
  out[1] = (w[2] & k4) | (((w[0] >> 6) & k2) << 4);
  out[2] = w[1] & k6;
  out[3] = ((w[2] >> 4) & k4) | (((w[1] >> 6) & k2) << 4);
}

// The 16 signed scales of a Q3_K block (each already minus its offset 32).
inline void q3_k_scales(const uint8_t* packed, int8_t out[16]) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (packed[j] & 0xf) : (packed[j - 8] >> 4);
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}

// Round to nearest, ties to even, for |x| < 2^22: ggml's nearest_int, which its K-quant code and the Q8_K
// activation quantiser use. Adding 1.5·2^23 pushes the fraction out of the mantissa in the FPU's default mode.
inline int nearest_int(float x) {
  const float shifted = x + 12582912.f;
  return static_cast<int>(std::bit_cast<uint32_t>(shifted) & 0x007fffffu) - 0x00400000;
}

// Scalar files only: SIMD files use F16C (see simd/x86.h), for the same linkage reason.
inline float f16(uint16_t h) { return fp16_to_fp32(h); }

}  // namespace

}  // namespace sy::kernels
