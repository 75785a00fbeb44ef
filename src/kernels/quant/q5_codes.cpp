#include "kernels/quant/q5_codes.h"

#include <cstring>

namespace sy::kernels {

void unpack_q5(const uint8_t* qs, const uint8_t* qh_bytes, int out[32]) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);  // little-endian, unaligned inside the block
  for (int j = 0; j < 16; ++j) {
    out[j] = (qs[j] & 0xf) | static_cast<int>(((qh >> j) & 1u) << 4);
    out[j + 16] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
  }
}

}  // namespace sy::kernels
