// The per-ISA dot products, defined in <type>_<isa>.cpp and listed in each type's simd_variants. Only the
// registry's selection (after checking the CPU) may call them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sy::kernels {

#define SY_DECLARE_DOT(name) float name(int64_t n, const void* w, const void* a)
SY_DECLARE_DOT(dot_f32_avx2);
SY_DECLARE_DOT(dot_f32_avx512);
SY_DECLARE_DOT(dot_f16_avx2);
SY_DECLARE_DOT(dot_f16_avx512);
SY_DECLARE_DOT(dot_bf16_avx2);
SY_DECLARE_DOT(dot_bf16_avx512);
SY_DECLARE_DOT(dot_bf16_avx512bf16);
SY_DECLARE_DOT(dot_q4_0_q8_0_avx2);
SY_DECLARE_DOT(dot_q4_0_q8_0_plain_avx2);
SY_DECLARE_DOT(dot_q4_0_q8_0_avx512vnni);
SY_DECLARE_DOT(dot_q5_0_q8_0_avx2);
SY_DECLARE_DOT(dot_q5_0_q8_0_avx512vnni);
SY_DECLARE_DOT(dot_q8_0_q8_0_avx2);
SY_DECLARE_DOT(dot_q8_0_q8_0_avx512vnni);
SY_DECLARE_DOT(dot_mxfp4_q8_0_avx2);
SY_DECLARE_DOT(dot_mxfp4_q8_0_avx512vnni);
SY_DECLARE_DOT(dot_q4_k_q8_k_avx2);
SY_DECLARE_DOT(dot_q4_k_q8_k_plain_avx2);
SY_DECLARE_DOT(dot_q4_k_q8_k_avx512);
SY_DECLARE_DOT(dot_q4_k_q8_k_avx512vnni);
SY_DECLARE_DOT(dot_q5_k_q8_k_avx2);
SY_DECLARE_DOT(dot_q5_k_q8_k_avx512);
SY_DECLARE_DOT(dot_q6_k_q8_k_avx2);
SY_DECLARE_DOT(dot_q6_k_q8_k_avx512);
SY_DECLARE_DOT(dot_q6_k_q8_k_avx512vnni);
#undef SY_DECLARE_DOT

#define SY_DECLARE_DOT_MULTI(name) \
  void name(int64_t n, const void* w, const void* a, size_t a_stride, int n_act, float* out)
SY_DECLARE_DOT_MULTI(dot_f32_multi_avx2);
SY_DECLARE_DOT_MULTI(dot_f16_multi_avx2);
SY_DECLARE_DOT_MULTI(dot_q4_0_q8_0_multi_avx2);
SY_DECLARE_DOT_MULTI(dot_q4_0_q8_0_multi_avx512vnni);
SY_DECLARE_DOT_MULTI(dot_q5_0_q8_0_multi_avx2);
SY_DECLARE_DOT_MULTI(dot_q5_0_q8_0_multi_avx512vnni);
SY_DECLARE_DOT_MULTI(dot_q8_0_q8_0_multi_avx2);
SY_DECLARE_DOT_MULTI(dot_q8_0_q8_0_multi_avx512vnni);
SY_DECLARE_DOT_MULTI(dot_mxfp4_q8_0_multi_avx2);
SY_DECLARE_DOT_MULTI(dot_mxfp4_q8_0_multi_avx512vnni);
SY_DECLARE_DOT_MULTI(dot_q4_k_q8_k_multi_avx2);
SY_DECLARE_DOT_MULTI(dot_q4_k_q8_k_gemm_avx2);
SY_DECLARE_DOT_MULTI(dot_q4_k_q8_k_multi_avx512);
SY_DECLARE_DOT_MULTI(dot_q4_k_q8_k_multi_avx512vnni);
SY_DECLARE_DOT_MULTI(dot_q5_k_q8_k_multi_avx2);
SY_DECLARE_DOT_MULTI(dot_q6_k_q8_k_multi_avx2);
SY_DECLARE_DOT_MULTI(dot_q6_k_q8_k_multi_avx512);
SY_DECLARE_DOT_MULTI(dot_q6_k_q8_k_multi_avx512vnni);
#undef SY_DECLARE_DOT_MULTI

void dot_q4_k_q8_k_tile_avx2(int64_t n, const void* w, size_t w_stride, int n_rows, const void* a, size_t a_stride,
                             int n_act, float* out);

// Activation converters (activation_quantize_avx512.cpp), bit-exact with the scalar quantize_row.
void quantize_q8_0_avx512(const float* src, void* dst, int64_t n);
void quantize_q8_1_avx512(const float* src, void* dst, int64_t n);
void quantize_q8_k_avx512(const float* src, void* dst, int64_t n);
void quantize_f16_avx512(const float* src, void* dst, int64_t n);
void quantize_bf16_avx512(const float* src, void* dst, int64_t n);
// activation_quantize_avx2.cpp
void quantize_q8_0_avx2(const float* src, void* dst, int64_t n);
void quantize_q8_1_avx2(const float* src, void* dst, int64_t n);
void quantize_q8_k_avx2(const float* src, void* dst, int64_t n);
void quantize_f16_avx2(const float* src, void* dst, int64_t n);
void quantize_bf16_avx2(const float* src, void* dst, int64_t n);

}  // namespace sy::kernels
