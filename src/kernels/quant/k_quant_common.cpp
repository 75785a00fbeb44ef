#include "kernels/quant/k_quant_common.h"

#include <algorithm>

#include "kernels/quant/blocks.h"

namespace sy::kernels {

KScales quantize_scale_min_k(const float* x, int nmax, uint8_t q[256]) {
  float scales[8], mins[8];
  float max_scale = 0.f, max_min = 0.f;
  for (int j = 0; j < 8; ++j) {
    float lo = 0.f, hi = x[32 * j];
    for (int l = 0; l < 32; ++l) lo = std::min(lo, x[32 * j + l]), hi = std::max(hi, x[32 * j + l]);
    scales[j] = std::max(0.f, hi - lo) / static_cast<float>(nmax);
    mins[j] = -lo;
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0.f ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0.f ? 63.f / max_min : 0.f;
  KScales out{};
  for (int j = 0; j < 8; ++j) {
    const int ls = std::min(63, nearest_int(inv_scale * scales[j]));
    const int lm = std::min(63, nearest_int(inv_min * mins[j]));
    if (j < 4) {
      out.packed[j] = static_cast<uint8_t>(ls);
      out.packed[j + 4] = static_cast<uint8_t>(lm);
    } else {
      out.packed[j + 4] = static_cast<uint8_t>((ls & 0xf) | ((lm & 0xf) << 4));
      out.packed[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      out.packed[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  out.d = fp32_to_fp16(max_scale / 63.f);
  out.dmin = fp32_to_fp16(max_min / 63.f);
  const float d = f16(out.d), dmin = f16(out.dmin);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    scale_min_k4(j, out.packed, sc, m);
    const float dl = d * sc, ml = dmin * m;
    for (int l = 0; l < 32; ++l)
      q[32 * j + l] = dl != 0.f ? static_cast<uint8_t>(std::clamp(nearest_int((x[32 * j + l] + ml) / dl), 0, nmax)) : 0;
  }
  return out;
}

}  // namespace sy::kernels
