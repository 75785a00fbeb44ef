// Matrix products with quantised weights: the policy half (threads, tiling) of the kernels. The inner loops
// are the registry's vec_dot functions. Activations are converted once per call to the weight type's
// vec_dot_type, exactly as ggml does, so results follow the reference's rounding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/tensor_type.h"
#include "core/thread_pool.h"

namespace sy::kernels {

// A 2-D weight matrix: n_rows rows of n_cols elements (ggml ne0 = n_cols), rows row_stride bytes apart.
// A view: the bytes belong to the mapped file or the expert store.
struct MatrixView {
  TensorType type = TensorType::kF32;
  int64_t n_cols = 0;
  int64_t n_rows = 0;
  const uint8_t* data = nullptr;
  size_t row_stride = 0;
};

// Which product this is in llama.cpp's graph, where the float order depends on it. It repacks 2-D weights and
// expert stacks of some types (Q4_K) into interleaved rows with kernels of their own order, but keeps one matrix of
// another stack (a 3-D weight such as DeepSeek's attn_k_b, one matrix per head) in the plain layout, with its
// plain kernels. And it gives float batches (two or more tokens, k % 16 == 0, rows % 4 == 0) to tinyBLAS, whose
// order the float types' multi-row kernels follow, only when the activations are contiguous and the product is
// not an expert product (MUL_MAT_ID); the rest take ggml_vec_dot per output.
enum class MatmulKind {
  kDense,            // a 2-D weight
  kStacked,          // one matrix of a 3-D weight, contiguous activations (attn_v_b)
  kStackedPermuted,  // one matrix of a 3-D weight, activations a permuted view (attn_k_b)
  kExperts,          // one expert of an expert stack
};

// Buffers a matmul needs between calls: the activations converted to the weight type's vec_dot_type and the
// plan of token groups. Owned by the caller (one per thread that calls matmul) so hot paths do not allocate
// once the buffers have grown to the largest batch.
struct MatmulScratch {
  std::vector<uint8_t> act;    // [n_tokens][row_bytes(vec_dot_type, n_cols)], rows in `order`
  std::vector<int64_t> order;  // converted row i holds token order[i]
  struct Group {
    int64_t first = 0;   // first converted row
    int32_t n = 0;       // rows
    int32_t kernel = 0;  // matmul.cpp's GroupKernel
  };
  std::vector<Group> groups;
};

struct MatmulOptions {
  MatmulKind kind = MatmulKind::kDense;
  // Ends of consecutive token runs that must each come out exactly as if multiplied alone (the tokens of
  // different sequences in one batch): a run's tokens are grouped for the multi-token kernels only with each
  // other, never with another run's, unless those kernels give every token the bits of the single-token one.
  // Empty: all tokens are one run.
  std::span<const int64_t> run_ends = {};
  MatmulScratch* scratch = nullptr;  // nullptr: a temporary one (tests, tools)
};

// y[t][r] = Σ_c W[r][c] · x[t][c] for t < n_tokens, r < n_rows.
// x: [n_tokens][n_cols] f32, y: [n_tokens][n_rows] f32 (row-major, contiguous).
// Fails (without touching y) only when the weight type has no dot product (no kernels, or an activation-only
// type such as Q8_K), or when run_ends does not partition the tokens.
Status matmul(const MatrixView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
              const MatmulOptions& options = {});
inline Status matmul(const MatrixView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
                     MatmulKind kind) {
  return matmul(w, x, n_tokens, y, pool, MatmulOptions{.kind = kind});
}

// True when this CPU's multi-token kernel for the type gives each token the same bits as its single-token
// kernel, so tokens of different runs may share one multi-token call (tested for every type).
bool multi_matches_single(TensorType type);

// Dequantises row `row` of w into dst[n_cols] (e.g. an embedding lookup).
Status dequantize_row(const MatrixView& w, int64_t row, float* dst);

}  // namespace sy::kernels
