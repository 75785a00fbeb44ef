// Causal multi-head attention over a KV cache, scalar: scores = scale·q·k, optional sliding window, optional
// per-head sink logit, softmax, weighted sum of values. Serves GQA (n_head_kv < n_head) and absorbed MLA
// (one latent "kv head" whose value is the first head_dim_v values of the key row).
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"

namespace sy::kernels {

struct AttentionArgs {
  // Queries [n_tokens][n_head][head_dim_k]; token t sits at position pos0 + t and sees keys 0..pos0+t.
  const float* q = nullptr;
  int64_t q_token_stride = 0;
  // Key of position p, kv head g: k + p·k_row_stride + g·head_dim_k. Values likewise with head_dim_v.
  const float* k = nullptr;
  int64_t k_row_stride = 0;
  const float* v = nullptr;
  int64_t v_row_stride = 0;
  int64_t n_tokens = 0;
  int64_t pos0 = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  float scale = 1.0f;
  const float* sinks = nullptr;  // [n_head] or nullptr
  int64_t window = 0;            // 0: full causal; else key p visible iff pos - p < window
  // Output [n_tokens][n_head][head_dim_v].
  float* out = nullptr;
  int64_t out_token_stride = 0;
};

// `scratch` holds the per-thread scores and accumulators; grown here when too small, so a caller that keeps it
// (the forward pass) does not allocate per call. nullptr: a temporary one.
void attention(const AttentionArgs& a, ThreadPool& pool, std::vector<float>* scratch = nullptr);

}  // namespace sy::kernels
