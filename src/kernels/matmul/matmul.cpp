#include "kernels/matmul/matmul.h"

#include <algorithm>
#include <vector>

#include "kernels/quant/quant.h"

namespace sy::kernels {

Status matmul(const MatrixView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  const QuantKernels* k = find_kernels(w.type);
  if (k == nullptr || k->vec_dot_ref == nullptr)
    return fail(ErrorCode::kUnsupported, "matmul: no kernels for tensor type {}", type_name(w.type));
  const QuantKernels* act = find_kernels(k->vec_dot_type);
  SY_ASSERT(act != nullptr && act->quantize_row != nullptr, "every vec_dot_type has a quantiser");
  // Convert every activation row once: [n_tokens][row_bytes(vec_dot_type, n_cols)].
  const size_t act_row_bytes = row_bytes(k->vec_dot_type, static_cast<uint64_t>(w.n_cols));
  std::vector<uint8_t> xq(act_row_bytes * static_cast<size_t>(n_tokens));
  for (int64_t t = 0; t < n_tokens; ++t)
    act->quantize_row(x + t * w.n_cols, xq.data() + t * act_row_bytes, w.n_cols);
  const VecDotFn dot = best_vec_dot(*k);
  // Tasks are blocks of rows so each thread streams a contiguous slice of the weights.
  constexpr int64_t kRowsPerTask = 16;
  const int64_t n_tasks = (w.n_rows + kRowsPerTask - 1) / kRowsPerTask;
  pool.parallel_for(n_tasks, [&](int64_t task, int) {
    const int64_t r0 = task * kRowsPerTask;
    const int64_t r1 = std::min(w.n_rows, r0 + kRowsPerTask);
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* row = w.data + static_cast<size_t>(r) * w.row_stride;
      for (int64_t t = 0; t < n_tokens; ++t) y[t * w.n_rows + r] = dot(w.n_cols, row, xq.data() + t * act_row_bytes);
    }
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
