#include "model/kv_cache.h"

#include <algorithm>
#include <new>

namespace sy::model {
namespace {

// The first reservation's rows: small prompts do not pay for growth steps, large ones grow by doubling.
constexpr int64_t kMinRows = 256;

}  // namespace

KvCache::KvCache(const ModelConfig& config, int64_t n_ctx)
    : n_ctx_(std::max<int64_t>(0, n_ctx)), layers_(config.layers.size()) {
  for (size_t il = 0; il < layers_.size(); ++il) {
    const AttentionRecipe& a = config.layers[il].attn;
    LayerCache& c = layers_[il];
    if (a.kind == AttentionKind::kMla) {
      c.k_width = a.mla.kv_lora_rank + a.mla.qk_rope;
    } else {
      c.k_width = a.gqa.n_head_kv * a.gqa.head_dim_k;
      c.v_width = a.gqa.n_head_kv * a.gqa.head_dim_v;
    }
  }
}

Status KvCache::reserve(int64_t n_pos) {
  if (n_pos <= capacity_) return {};
  if (n_pos > n_ctx_)
    return fail(ErrorCode::kOutOfRange, "context full: {} positions do not fit the context of {}", n_pos, n_ctx_);
  const int64_t rows = std::min(n_ctx_, std::max({n_pos, 2 * capacity_, kMinRows}));
  try {
    for (LayerCache& c : layers_) {
      c.k.resize(static_cast<size_t>(rows * c.k_width));
      c.v.resize(static_cast<size_t>(rows * c.v_width));
    }
  } catch (const std::bad_alloc&) {
    for (LayerCache& c : layers_) {  // back to the rows every layer had
      c.k.resize(static_cast<size_t>(capacity_ * c.k_width));
      c.v.resize(static_cast<size_t>(capacity_ * c.v_width));
    }
    return fail(ErrorCode::kOutOfRange, "out of memory growing the KV cache to {} positions", rows);
  }
  capacity_ = rows;
  return {};
}

size_t KvCache::bytes() const {
  size_t total = 0;
  for (const auto& l : layers_) total += (l.k.size() + l.v.size()) * sizeof(float);
  return total;
}

}  // namespace sy::model
