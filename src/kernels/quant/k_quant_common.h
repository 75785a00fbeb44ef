// Helpers shared by the K-format reference quantisers (not by the dot products).
#pragma once

#include <cstdint>

namespace sy::kernels {

// The packed 6-bit (scale, min) pairs and their f16 super-scales of one Q4_K/Q5_K block.
struct KScales {
  uint16_t d;
  uint16_t dmin;
  uint8_t packed[12];
};

// Reference quantiser for 8 sub-blocks of 32 with codes 0..nmax (15 for Q4_K, 31 for Q5_K): each sub-block
// spans [min(0, x_min), x_max]; its scale and min are rounded to 6 bits under two f16 super-scales, and the
// codes are then chosen against those rounded values. Simpler than ggml's search, and within a few percent.
KScales quantize_scale_min_k(const float* x, int nmax, uint8_t q[256]);

}  // namespace sy::kernels
