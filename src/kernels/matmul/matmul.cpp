#include "kernels/matmul/matmul.h"

#include <algorithm>
#include <vector>

#include "kernels/quant/quant.h"

namespace sy::kernels {
namespace {

// Rows per task: each task streams a contiguous slice of the weights (16 rows of a 4096-wide Q4_K matrix are
// 37 KiB), small enough that the slice stays in L2 while every group of tokens passes over it, so each
// weight block is loaded from memory once and used for every token.
constexpr int64_t kRowsPerTask = 16;
// Decoding one token streams each weight once, so tasks are long contiguous runs instead: each task start is a
// new stream that the kernels' prefetch (4 KiB ahead) has not warmed, and each task end prefetches rows another
// thread computes. About this many tasks per thread keeps threads balanced when one starts late.
constexpr int64_t kDecodeTasksPerThread = 4;

}  // namespace

Status matmul(const MatrixView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool, MatmulKind kind) {
  const QuantKernels* k = find_kernels(w.type);
  if (k == nullptr || k->vec_dot_ref == nullptr)
    return fail(ErrorCode::kUnsupported, "matmul: no kernels for tensor type {}", type_name(w.type));
  const QuantKernels* act = find_kernels(k->vec_dot_type);
  SY_ASSERT(act != nullptr && act->quantize_row != nullptr, "every vec_dot_type has a quantiser");
  if (n_tokens <= 0 || w.n_rows <= 0) return {};

  // Convert every activation row once: [n_tokens][row_bytes(vec_dot_type, n_cols)]. The buffer is per calling
  // thread and kept, so decoding (many small matmuls per token) does not allocate.
  const size_t act_row_bytes = row_bytes(k->vec_dot_type, static_cast<uint64_t>(w.n_cols));
  thread_local std::vector<uint8_t> xq;
  if (xq.size() < act_row_bytes * static_cast<size_t>(n_tokens)) xq.resize(act_row_bytes * static_cast<size_t>(n_tokens));
  uint8_t* const xq_data = xq.data();
  const QuantizeRowFn quantize = best_quantize_row(*act);
  auto quantize_token = [&](int64_t t, int) {
    quantize(x + t * w.n_cols, xq_data + static_cast<size_t>(t) * act_row_bytes, w.n_cols);
  };
  if (n_tokens >= 8)
    pool.parallel_for(n_tokens, quantize_token);
  else
    for (int64_t t = 0; t < n_tokens; ++t) quantize_token(t, 0);

  // llama.cpp repacks only matrices whose rows are a multiple of kGemmRows, and never the slices of a 3-D weight.
  const bool stacked = kind == MatmulKind::kStacked || kind == MatmulKind::kStackedPermuted;
  const VecDotFn plain = stacked || w.n_rows % kGemmRows != 0 ? best_vec_dot_plain(*k) : nullptr;
  const VecDotFn dot = plain != nullptr ? plain : best_vec_dot(*k);
  // The float types' multi-row kernels are tinyBLAS's order (matmul.h says where llama.cpp uses it).
  const bool is_float = w.type == TensorType::kF32 || w.type == TensorType::kF16;
  // A permuted view blocks tinyBLAS only for F32 weights: F16 ones first convert the activations to a
  // contiguous F16 copy, which tinyBLAS then takes.
  const bool float_per_output =
      is_float && (kind == MatmulKind::kExperts || w.n_rows % 4 != 0 ||
                   (kind == MatmulKind::kStackedPermuted && w.type == TensorType::kF32));
  const VecDotMultiFn dot_multi = n_tokens > 1 && plain == nullptr && !float_per_output ? best_vec_dot_multi(*k) : nullptr;
  // Repacked types: each full group of kGemmTokens tokens of a dense product in the gemm's order.
  const VecDotMultiFn dot_gemm =
      kind == MatmulKind::kDense && w.n_rows % kGemmRows == 0 && n_tokens >= kGemmTokens ? best_vec_dot_gemm(*k) : nullptr;
  const int64_t n_gemm_tokens = dot_gemm != nullptr ? n_tokens / kGemmTokens * kGemmTokens : 0;
  int64_t rows_per_task = kRowsPerTask;
  if (n_tokens == 1) {
    const int64_t decode_tasks = kDecodeTasksPerThread * pool.size();
    rows_per_task = std::max(kRowsPerTask, (w.n_rows + decode_tasks - 1) / decode_tasks);
  }
  const int64_t n_tasks = (w.n_rows + rows_per_task - 1) / rows_per_task;
  pool.parallel_for(n_tasks, [&](int64_t task, int) {
    const int64_t r0 = task * rows_per_task;
    const int64_t r1 = std::min(w.n_rows, r0 + rows_per_task);
    // Token groups outside, the task's rows inside: a group's converted activations (at most kMaxDotRows
    // rows) stay in L1 while the task's weight rows pass, and the weight slice stays in L2 for the next group.
    // Activations are the larger stream per weight block (a Q8_K row block is 292 bytes, a Q4_K one 144).
    int64_t t = 0;
    for (; t < n_gemm_tokens; t += kGemmTokens) {
      const uint8_t* group_act = xq_data + static_cast<size_t>(t) * act_row_bytes;
      for (int64_t r = r0; r < r1; ++r) {
        float out[kGemmTokens];
        dot_gemm(w.n_cols, w.data + static_cast<size_t>(r) * w.row_stride, group_act, act_row_bytes, kGemmTokens, out);
        for (int j = 0; j < kGemmTokens; ++j) y[(t + j) * w.n_rows + r] = out[j];
      }
    }
    if (dot_multi != nullptr) {
      // Several tokens per call: the kernel decodes each weight block once for all of them.
      for (; t + 1 < n_tokens; t += kMaxDotRows) {
        const int n_act = static_cast<int>(std::min<int64_t>(kMaxDotRows, n_tokens - t));
        const uint8_t* group_act = xq_data + static_cast<size_t>(t) * act_row_bytes;
        for (int64_t r = r0; r < r1; ++r) {
          float out[kMaxDotRows];
          dot_multi(w.n_cols, w.data + static_cast<size_t>(r) * w.row_stride, group_act, act_row_bytes, n_act, out);
          for (int j = 0; j < n_act; ++j) y[(t + j) * w.n_rows + r] = out[j];
        }
      }
    }
    for (; t < n_tokens; ++t)
      for (int64_t r = r0; r < r1; ++r)
        y[t * w.n_rows + r] =
            dot(w.n_cols, w.data + static_cast<size_t>(r) * w.row_stride, xq_data + static_cast<size_t>(t) * act_row_bytes);
  });
  return {};
}

Status dequantize_row(const MatrixView& w, int64_t row, float* dst) {
  const QuantKernels* k = find_kernels(w.type);
  if (k == nullptr)
    return fail(ErrorCode::kUnsupported, "dequantize: no kernels for tensor type {}", type_name(w.type));
  k->dequantize_row(w.data + static_cast<size_t>(row) * w.row_stride, dst, w.n_cols);
  return {};
}

}  // namespace sy::kernels
