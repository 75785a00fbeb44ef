#include "kernel_test_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/quant/blocks.h"

namespace sy::kernels::test {

std::vector<float> gaussian(size_t n, std::mt19937& rng, float sigma) {
  std::normal_distribution<float> dist(0.f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

namespace {

// Overwrites the f16/float/E8M0 scale fields of one block with finite values of moderate size.
void sanitize_block(TensorType type, uint8_t* block, std::mt19937& rng) {
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  auto put_f16 = [&](size_t offset, bool positive = false) {
    float v = scale(rng);
    if (positive) v = std::abs(v);
    const uint16_t h = fp32_to_fp16(v);
    std::memcpy(block + offset, &h, 2);
  };
  switch (type) {
    case TensorType::kF16: {
      const uint16_t h = fp32_to_fp16(scale(rng) * 20);
      std::memcpy(block, &h, 2);
      break;
    }
    case TensorType::kBF16: {
      const uint16_t h = fp32_to_bf16(scale(rng) * 20);
      std::memcpy(block, &h, 2);
      break;
    }
    case TensorType::kF32: {
      const float f = scale(rng) * 20;
      std::memcpy(block, &f, 4);
      break;
    }
    case TensorType::kQ4_0:
    case TensorType::kQ5_0:
    case TensorType::kQ8_0: put_f16(0); break;
    case TensorType::kQ4_1:
    case TensorType::kQ5_1:
      put_f16(0);
      put_f16(2);
      break;
    case TensorType::kQ2_K:
      put_f16(offsetof(BlockQ2_K, d), true);
      put_f16(offsetof(BlockQ2_K, dmin), true);
      break;
    case TensorType::kQ3_K: put_f16(offsetof(BlockQ3_K, d)); break;
    case TensorType::kQ4_K:
    case TensorType::kQ5_K:
      put_f16(0, true);
      put_f16(2, true);
      break;
    case TensorType::kQ6_K: put_f16(offsetof(BlockQ6_K, d)); break;
    case TensorType::kMXFP4: block[0] = static_cast<uint8_t>(std::uniform_int_distribution<int>(110, 135)(rng)); break;
    default: break;
  }
}

}  // namespace

std::vector<uint8_t> make_rows(TensorType type, int64_t n_rows, int64_t n, std::mt19937& rng, bool random_bytes) {
  const size_t row = row_bytes(type, static_cast<uint64_t>(n));
  std::vector<uint8_t> out(row * static_cast<size_t>(n_rows));
  if (random_bytes) {
    std::uniform_int_distribution<int> byte(0, 255);
    for (uint8_t& b : out) b = static_cast<uint8_t>(byte(rng));
    const auto& t = traits(type);
    for (size_t off = 0; off < out.size(); off += t.block_bytes) sanitize_block(type, out.data() + off, rng);
    return out;
  }
  const QuantKernels* k = find_kernels(type);
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto x = gaussian(static_cast<size_t>(n), rng);
    k->quantize_row(x.data(), out.data() + static_cast<size_t>(r) * row, n);
  }
  return out;
}

double dequantized_dot(const QuantKernels& w_kernels, const void* w, const QuantKernels& a_kernels, const void* a,
                       int64_t n, double* abs_sum) {
  std::vector<float> wf(static_cast<size_t>(n)), af(static_cast<size_t>(n));
  w_kernels.dequantize_row(w, wf.data(), n);
  a_kernels.dequantize_row(a, af.data(), n);
  double sum = 0.0, abs = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    sum += static_cast<double>(wf[i]) * af[i];
    abs += std::abs(static_cast<double>(wf[i]) * af[i]);
  }
  if (abs_sum) *abs_sum = abs;
  return sum;
}

double reorder_tolerance(const QuantKernels& w_kernels, const QuantKernels& a_kernels, const void* w, const void* a,
                         int64_t n) {
  std::vector<float> wf(static_cast<size_t>(n)), af(static_cast<size_t>(n));
  w_kernels.dequantize_row(w, wf.data(), n);
  a_kernels.dequantize_row(a, af.data(), n);
  double wmax = 0, s = 0;
  for (float v : wf) wmax = std::max(wmax, static_cast<double>(std::fabs(v)));
  for (int64_t i = 0; i < n; ++i) s += std::fabs(af[i]) * (std::fabs(wf[i]) + wmax);
  return 2e-6 * s + 1e-30;
}

}  // namespace sy::kernels::test
