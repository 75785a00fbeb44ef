// The per-layer key/value cache of one sequence, F32. GQA layers keep K [n_ctx][n_head_kv·head_dim_k] and
// V [n_ctx][n_head_kv·head_dim_v] (keys already rotated); MLA layers keep only the latent row
// [c (kv_lora) | k_rope] per position. Sliding-window layers currently keep every position and mask.
#pragma once

#include <cstdint>
#include <vector>

#include "model/hparams.h"

namespace sy::model {

struct LayerCache {
  std::vector<float> k;  // [n_ctx][k_width]
  std::vector<float> v;  // [n_ctx][v_width]; empty for MLA (values are the first kv_lora of k)
  int64_t k_width = 0;
  int64_t v_width = 0;
};

class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t n_ctx);

  int64_t n_ctx() const { return n_ctx_; }
  LayerCache& layer(size_t il) { return layers_[il]; }
  size_t bytes() const;

 private:
  int64_t n_ctx_;
  std::vector<LayerCache> layers_;
};

}  // namespace sy::model
