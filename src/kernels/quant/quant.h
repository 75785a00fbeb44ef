// The kernel tier of the tensor-type registry (STYLE.md §3): per type, dequantise, a reference quantiser and
// dot products against activations converted to the type's `vec_dot_type` (as ggml does: Q8_0 activations
// for Q4_0/Q5_0/Q8_0/MXFP4 weights, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants, F16 for F16, BF16 for BF16).
// One file per type defines its QuantKernels; registry.cpp lists them. SIMD variants are chosen at run time.
#pragma once

#include <cstdint>
#include <span>
#include <type_traits>

#include "core/tensor_type.h"

namespace sy::kernels {

// Dot product of one weight row (n elements of the weight type) with one activation row (n elements of
// vec_dot_type). n is a multiple of both block sizes.
using VecDotFn = float (*)(int64_t n, const void* weights, const void* activations);
using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);

// Several dot products of one weight row: out[j] = Σ w · a_j for the n_act ≤ kMaxDotRows activation rows
// a_j = a + j·a_stride bytes. Prefill uses it to decode each weight block once for several tokens.
using VecDotMultiFn = void (*)(int64_t n, const void* weights, const void* activations, size_t a_stride, int n_act,
                               float* out);
inline constexpr int kMaxDotRows = 8;

// A tile of dot products: out[r·kMaxDotRows + j] = Σ w_r · a_j for n_rows <= kTileRows weight rows
// w_r = weights + r·w_stride bytes and n_act <= kMaxDotRows activation rows a_j = a + j·a_stride bytes. Several
// sequences' decode and prefill share each activation block across rows and each decoded weight block across
// tokens. A tile variant gives every (row, token) the bits of the multi-row variant of its ISA.
using VecDotTileFn = void (*)(int64_t n, const void* weights, size_t w_stride, int n_rows, const void* activations,
                              size_t a_stride, int n_act, float* out);
inline constexpr int kTileRows = 4;

// Calls f(std::integral_constant<int, R>{}) with R = n_act in [1, kMaxDotRows]: multi-row kernels are
// templates on their row count, and this is the one place that lists the counts.
template <typename F>
inline void with_row_count(int n_act, F&& f) {
  switch (n_act) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 5: return f(std::integral_constant<int, 5>{});
    case 6: return f(std::integral_constant<int, 6>{});
    case 7: return f(std::integral_constant<int, 7>{});
    default: return f(std::integral_constant<int, 8>{});
  }
}

// Runs a multi-row kernel that keeps at most kPass rows' accumulators in registers over n_act activation rows,
// kPass at a time: f(std::integral_constant<int, R>{}, rows, out_rows) per pass of R <= kPass rows, rows and
// out_rows being that pass's first activation row and first output.
template <int kPass, typename F>
inline void in_row_passes(int n_act, const void* a, size_t a_stride, float* out, F&& f) {
  for (int done = 0; done < n_act; done += kPass) {
    const int rows = n_act - done < kPass ? n_act - done : kPass;
    const void* pass_rows = static_cast<const uint8_t*>(a) + static_cast<size_t>(done) * a_stride;
    with_row_count(rows, [&](auto r) {
      if constexpr (r.value <= kPass) f(r, pass_rows, out + done);
    });
  }
}

struct VecDotVariant {
  const char* isa;  // as CpuFeatures::supports spells it: "avx2", "avx512", "avx512vnni", "avx512bf16"
  VecDotFn fn;
};

struct VecDotMultiVariant {
  const char* isa;
  VecDotMultiFn fn;
};

struct VecDotTileVariant {
  const char* isa;
  VecDotTileFn fn;
};

struct QuantizeVariant {
  const char* isa;
  QuantizeRowFn fn;
};

struct QuantKernels {
  TensorType type;
  TensorType vec_dot_type;
  DequantizeRowFn dequantize_row;                // required
  QuantizeRowFn quantize_row;                    // reference quantiser; nullptr if the type has none
  VecDotFn vec_dot_ref;                          // scalar reference, the ground truth for every SIMD variant
  std::span<const VecDotVariant> simd_variants;  // fastest first; each checked against vec_dot_ref in tests
  // Faster converters for activation types, fastest first; each must be bit-exact with quantize_row (tested).
  std::span<const QuantizeVariant> quantize_variants = {};
  // Multi-row dot products, fastest first; each checked against vec_dot_ref per row in tests.
  std::span<const VecDotMultiVariant> multi_variants = {};
  // For types llama.cpp repacks, whose order then differs from its plain vec_dot (Q4_K, Q4_0; MXFP4's plain
  // order is not written yet): dot products in the plain order, for the matrices it leaves unpacked (slices of
  // a 3-D weight, rows not a multiple of kGemmRows).
  std::span<const VecDotVariant> plain_variants = {};
  // For types llama.cpp repacks: multi-row products in its repacked gemm's order, which it uses for each full
  // group of kGemmTokens tokens of a dense product (not experts, not 3-D slices) whose rows are a multiple of
  // kGemmRows. Checked against vec_dot_ref per row in tests.
  std::span<const VecDotMultiVariant> gemm_variants = {};
  // Tiles of several weight rows × several tokens, fastest first; each gives, per (row, token), the bits of the
  // multi_variants entry of the same ISA (tested).
  std::span<const VecDotTileVariant> tile_variants = {};
};

// The token group and row multiple of llama.cpp's repacked gemm on x86 (8 interleaved rows × 4 tokens).
inline constexpr int kGemmTokens = 4;
inline constexpr int64_t kGemmRows = 8;

// nullptr when switchyard has no kernels for the type (e.g. the IQ formats).
const QuantKernels* find_kernels(TensorType type);

// The fastest dot product this CPU supports for the type (falls back to the scalar reference).
VecDotFn best_vec_dot(const QuantKernels& kernels);

// The fastest multi-row dot product this CPU supports for the type; nullptr when there is none (callers then
// loop over best_vec_dot).
VecDotMultiFn best_vec_dot_multi(const QuantKernels& kernels);

// The fastest gemm_variants entry this CPU supports; nullptr when there is none.
VecDotMultiFn best_vec_dot_gemm(const QuantKernels& kernels);
// The tile_variants entry of the ISA best_vec_dot_multi's kernel comes from (so that a tile and that kernel give
// the same bits); nullptr when there is none.
VecDotTileFn best_vec_dot_tile(const QuantKernels& kernels);
// The fastest plain_variants entry this CPU supports; nullptr when there is none.
VecDotFn best_vec_dot_plain(const QuantKernels& kernels);

// The fastest converter this CPU supports for the type (falls back to quantize_row, possibly nullptr).
QuantizeRowFn best_quantize_row(const QuantKernels& kernels);

// Every registered type's kernels (for tests and benchmarks).
std::span<const QuantKernels* const> all_kernels();

}  // namespace sy::kernels
