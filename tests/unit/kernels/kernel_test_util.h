// Test data for the kernel tests (and the benchmarks): weight rows of any registered type, either quantised
// from Gaussian values by the type's reference quantiser or filled with random bytes whose scale fields are
// forced to sane finite values, so every code pattern occurs.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "core/tensor_type.h"
#include "kernels/quant/quant.h"

namespace sy::kernels::test {

std::vector<float> gaussian(size_t n, std::mt19937& rng, float sigma = 1.f);

// n_rows rows of n elements of `type`, contiguous. random_bytes: as described above; otherwise quantised.
std::vector<uint8_t> make_rows(TensorType type, int64_t n_rows, int64_t n, std::mt19937& rng, bool random_bytes);

// Σ a[i]·b[i] in double over two dequantised rows.
double dequantized_dot(const QuantKernels& w_kernels, const void* w, const QuantKernels& a_kernels, const void* a,
                       int64_t n, double* abs_sum = nullptr);

// How far two correct dot products of the same rows may differ when they sum in different orders: a few ulps
// of Σ|a_i|·(|w_i| + max|w|), which bounds every partial sum either side can form (the max term covers the K
// formats' separately accumulated minimums). Integer block sums must be exact for this to hold.
double reorder_tolerance(const QuantKernels& w_kernels, const QuantKernels& a_kernels, const void* w, const void* a,
                         int64_t n);

}  // namespace sy::kernels::test
