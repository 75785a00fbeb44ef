// The per-layer key/value cache of one sequence, F32. GQA layers keep K [n_pos][n_head_kv·head_dim_k] and
// V [n_pos][n_head_kv·head_dim_v] (keys already rotated); MLA layers keep only the latent row
// [c (kv_lora) | k_rope] per position. Sliding-window layers currently keep every position and mask.
//
// The cache grows on demand (reserve) up to n_ctx positions instead of being allocated for the whole context
// up front: a one-token prompt on a model trained for 128k positions costs one position's rows.
#pragma once

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "model/hparams.h"

namespace sy::model {

struct LayerCache {
  std::vector<float> k;  // [capacity][k_width]
  std::vector<float> v;  // [capacity][v_width]; empty for MLA (values are the first kv_lora of k)
  int64_t k_width = 0;
  int64_t v_width = 0;
};

class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t n_ctx);

  int64_t n_ctx() const { return n_ctx_; }
  int64_t capacity() const { return capacity_; }
  // Makes room for positions [0, n_pos) in every layer (n_pos <= n_ctx), growing geometrically so decoding
  // reallocates O(log n) times. Rows already written are kept. Fails, leaving the cache as it was, when n_pos
  // exceeds the context or the memory cannot be had.
  Status reserve(int64_t n_pos);
  LayerCache& layer(size_t il) { return layers_[il]; }
  size_t bytes() const;

 private:
  int64_t n_ctx_;
  int64_t capacity_ = 0;
  std::vector<LayerCache> layers_;
};

}  // namespace sy::model
