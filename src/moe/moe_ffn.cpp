#include "moe/moe_ffn.h"

#include <algorithm>
#include <vector>

#include "kernels/ops/elementwise.h"

namespace sy::moe {
namespace {

void add_bias_rows(float* y, const float* bias, int64_t n_rows, int64_t n) {
  if (bias == nullptr) return;
  for (int64_t r = 0; r < n_rows; ++r) kernels::add_inplace(y + r * n, bias, n);
}

}  // namespace

Status moe_ffn(const MoeLayerArgs& a, const MoeContext& ctx) {
  const RoutingConfig& cfg = *a.routing;
  const int64_t E = cfg.n_expert, d = a.n_embd, ff = a.n_ff;
  ThreadPool& pool = *ctx.pool;

  // Stage 1: router logits [n_tokens][E] and the policy's decision.
  std::vector<float> logits(static_cast<size_t>(a.n_tokens * E));
  if (auto s = kernels::matmul(a.router, a.x, a.n_tokens, logits.data(), pool); !s) return s;
  add_bias_rows(logits.data(), a.router_bias, a.n_tokens, E);
  RoutingDecision decision;
  ctx.policy->route(cfg, RouterOutput{.logits = logits.data(), .n_tokens = a.n_tokens, .selection_bias = a.selection_bias,
                                   .layer = a.layer},
                    decision);
  if (ctx.observers != nullptr && !ctx.observers->empty())
    ctx.observers->notify(RoutingEvent{.layer = a.layer, .pos0 = a.pos0, .decision = &decision, .hidden = a.x, .n_embd = d,
                                       .logits = logits.data(), .config = &cfg});
  const int64_t k = decision.k;

  // Stage 2: (token, slot) records grouped by expert: counts, offsets, and record indices t·k + j per expert.
  std::vector<int64_t> counts(static_cast<size_t>(E), 0), offsets(static_cast<size_t>(E) + 1, 0);
  for (int32_t id : decision.ids) {
    if (id == kNoExpert) continue;  // padding of a variable-k policy: weight 0, no work
    if (id < 0 || id >= E) return fail(ErrorCode::kOutOfRange, "routing policy chose expert {} of {}", id, E);
    ++counts[static_cast<size_t>(id)];
  }
  for (int64_t e = 0; e < E; ++e) offsets[static_cast<size_t>(e) + 1] = offsets[static_cast<size_t>(e)] + counts[static_cast<size_t>(e)];
  std::vector<int64_t> records(decision.ids.size()), fill(offsets.begin(), offsets.end() - 1);
  for (int64_t r = 0; r < static_cast<int64_t>(decision.ids.size()); ++r) {
    const int32_t id = decision.ids[static_cast<size_t>(r)];
    if (id != kNoExpert) records[static_cast<size_t>(fill[static_cast<size_t>(id)]++)] = r;
  }
  std::vector<int32_t> active;
  for (int64_t e = 0; e < E; ++e)
    if (counts[static_cast<size_t>(e)] > 0) active.push_back(static_cast<int32_t>(e));

  // Stage 3: the store hands out the active experts' weights.
  std::vector<ExpertWeights> weights(active.size());
  if (auto s = ctx.store->acquire(a.layer, active, weights); !s) return s;

  // Stage 4: per active expert, gather its tokens and run gate/up → activation → down once on the group.
  // Results land per record, [n_tokens·k][d], so the scatter below can sum slots in a fixed order; padding
  // records stay zero. Every row of every product is computed the same way however the work is split, so
  // the split below never changes the numbers.
  std::vector<float> expert_out(static_cast<size_t>(a.n_tokens * k * d));
  struct Scratch {
    std::vector<float> xg, g, u, y;
  };
  auto run_expert = [&](size_t i, ThreadPool& p, Scratch& s) -> Status {
    const int64_t e = active[i], n = counts[static_cast<size_t>(e)], off = offsets[static_cast<size_t>(e)];
    const ExpertWeights& w = weights[i];
    s.xg.resize(static_cast<size_t>(n * d));
    s.g.resize(static_cast<size_t>(n * ff));
    s.u.resize(static_cast<size_t>(n * ff));
    s.y.resize(static_cast<size_t>(n * d));
    for (int64_t r = 0; r < n; ++r) {
      const int64_t t = records[static_cast<size_t>(off + r)] / k;
      std::copy_n(a.x + t * d, d, s.xg.data() + r * d);
    }
    if (auto st = kernels::matmul(w.gate, s.xg.data(), n, s.g.data(), p, kernels::MatmulKind::kExperts); !st) return st;
    if (auto st = kernels::matmul(w.up, s.xg.data(), n, s.u.data(), p, kernels::MatmulKind::kExperts); !st) return st;
    add_bias_rows(s.g.data(), w.gate_bias, n, ff);
    add_bias_rows(s.u.data(), w.up_bias, n, ff);
    if (a.act == ExpertActivation::kSwigluOai)
      kernels::swiglu_oai(s.g.data(), s.u.data(), n * ff, s.g.data());
    else
      for (int64_t r = 0; r < n; ++r)
        kernels::swiglu(s.g.data() + r * ff, s.u.data() + r * ff, ff, s.g.data() + r * ff);
    if (auto st = kernels::matmul(w.down, s.g.data(), n, s.y.data(), p, kernels::MatmulKind::kExperts); !st) return st;
    add_bias_rows(s.y.data(), w.down_bias, n, d);
    for (int64_t r = 0; r < n; ++r)
      std::copy_n(s.y.data() + r * d, d, expert_out.data() + records[static_cast<size_t>(off + r)] * d);
    return {};
  };
  Status status;
  if (pool.size() > 1 && active.size() >= 2 * static_cast<size_t>(pool.size())) {
    // Many active experts: one expert per task, each product on its own thread.
    std::vector<Scratch> scratch(static_cast<size_t>(pool.size()));
    std::vector<Status> results(active.size());
    pool.parallel_for(static_cast<int64_t>(active.size()), [&](int64_t i, int thread) {
      ThreadPool serial(1);  // no worker threads: runs inline on this one
      results[static_cast<size_t>(i)] = run_expert(static_cast<size_t>(i), serial, scratch[static_cast<size_t>(thread)]);
    });
    for (const Status& r : results)
      if (!r) status = r;
  } else {
    // Few active experts: one after another, each product split over the pool.
    Scratch scratch;
    for (size_t i = 0; i < active.size() && status; ++i) status = run_expert(i, pool, scratch);
  }
  ctx.store->release(a.layer, active);
  if (!status) return status;

  // Stage 5: weighted scatter-add, slot 0 first (the weight multiplies the expert's output).
  for (int64_t t = 0; t < a.n_tokens; ++t) {
    float* o = a.out + t * d;
    for (int64_t j = 0; j < k; ++j) {
      const float wj = decision.weights[static_cast<size_t>(t * k + j)];
      const float* src = expert_out.data() + (t * k + j) * d;
      if (j == 0)
        for (int64_t c = 0; c < d; ++c) o[c] = wj * src[c];
      else
        for (int64_t c = 0; c < d; ++c) o[c] += wj * src[c];
    }
  }
  return {};
}

}  // namespace sy::moe
