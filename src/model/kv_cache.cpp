#include "model/kv_cache.h"

namespace sy::model {

KvCache::KvCache(const ModelConfig& config, int64_t n_ctx) : n_ctx_(n_ctx), layers_(config.layers.size()) {
  for (size_t il = 0; il < layers_.size(); ++il) {
    const AttentionRecipe& a = config.layers[il].attn;
    LayerCache& c = layers_[il];
    if (a.kind == AttentionKind::kMla) {
      c.k_width = a.mla.kv_lora_rank + a.mla.qk_rope;
    } else {
      c.k_width = a.gqa.n_head_kv * a.gqa.head_dim_k;
      c.v_width = a.gqa.n_head_kv * a.gqa.head_dim_v;
    }
    c.k.assign(static_cast<size_t>(n_ctx * c.k_width), 0.0f);
    c.v.assign(static_cast<size_t>(n_ctx * c.v_width), 0.0f);
  }
}

size_t KvCache::bytes() const {
  size_t total = 0;
  for (const auto& l : layers_) total += (l.k.size() + l.v.size()) * sizeof(float);
  return total;
}

}  // namespace sy::model
