#include "kernels/ops/attention.h"

#include <vector>

#include "kernels/simd/cpu_features.h"

#define SY_BODY_NS baseline
#include "kernels/ops/attention_body.h"

namespace sy::kernels {
namespace avx2 {
void attention_one(const AttentionArgs& a, VecDotFn dot, int64_t t, int64_t h, float* scratch);
}  // namespace avx2

void attention(const AttentionArgs& a, ThreadPool& pool, std::vector<float>* scratch_buffer) {
  const VecDotFn dot = best_vec_dot(*find_kernels(TensorType::kF32));
  auto* one = cpu_features().avx2 ? &avx2::attention_one : &baseline::attention_one;
  // Per thread: the scores (through the last 16-group) and 64 lane rows of head_dim_v accumulators.
  const int64_t n_kv = (a.pos0 + a.n_tokens + lanes::kLanes - 1) / lanes::kLanes * lanes::kLanes;
  const size_t per_thread = static_cast<size_t>(n_kv + 4 * lanes::kLanes * a.head_dim_v);
  std::vector<float> local;
  std::vector<float>& scratch = scratch_buffer != nullptr ? *scratch_buffer : local;
  if (scratch.size() < per_thread * static_cast<size_t>(pool.size()))
    scratch.resize(per_thread * static_cast<size_t>(pool.size()));
  pool.parallel_for(a.n_tokens * a.n_head, [&](int64_t task, int thread) {
    one(a, dot, task / a.n_head, task % a.n_head, scratch.data() + per_thread * static_cast<size_t>(thread));
  });
}

}  // namespace sy::kernels
