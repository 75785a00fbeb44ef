#include "moe/moe_ffn.h"

#include <algorithm>

#include "kernels/ops/elementwise.h"

namespace sy::moe {
namespace {

void add_bias_rows(float* y, const float* bias, int64_t n_rows, int64_t n) {
  if (bias == nullptr) return;
  for (int64_t r = 0; r < n_rows; ++r) kernels::add_inplace(y + r * n, bias, n);
}

// Slots per token in the record layout: the largest k of any segment's decision.
int64_t slots_per_token(const MoeScratch& s, size_t n_segments) {
  int64_t k = 0;
  for (size_t i = 0; i < n_segments; ++i) k = std::max<int64_t>(k, s.decisions[i].k);
  return k;
}

// Stage 1: router logits [n_tokens][E] for the whole batch, then each segment's policy on its rows.
Status route(const MoeLayerArgs& a, const MoeContext& ctx, std::span<const MoeSegment> segs, MoeScratch& s) {
  const RoutingConfig& cfg = *a.routing;
  const int64_t E = cfg.n_expert;
  s.logits.resize(static_cast<size_t>(a.n_tokens * E));
  s.run_ends.clear();
  for (const MoeSegment& g : segs) s.run_ends.push_back(g.first + g.n);
  if (auto st = kernels::matmul(a.router, a.x, a.n_tokens, s.logits.data(), *ctx.pool,
                                {.run_ends = s.run_ends, .scratch = &s.router_matmul});
      !st)
    return st;
  add_bias_rows(s.logits.data(), a.router_bias, a.n_tokens, E);
  if (s.decisions.size() < segs.size()) s.decisions.resize(segs.size());
  for (size_t i = 0; i < segs.size(); ++i) {
    const MoeSegment& g = segs[i];
    RoutingDecision& d = s.decisions[i];
    RoutingPolicy* policy = g.policy != nullptr ? g.policy : ctx.policy;
    const float* logits = s.logits.data() + g.first * E;
    policy->route(cfg,
                  RouterOutput{.logits = logits,
                               .n_tokens = g.n,
                               .selection_bias = a.selection_bias,
                               .layer = a.layer,
                               .store = ctx.store},
                  d);
    if (d.n_tokens != g.n || d.k < 0 || d.ids.size() != static_cast<size_t>(g.n * d.k) ||
        d.weights.size() != d.ids.size())
      return fail(ErrorCode::kInvalidInput, "routing policy gave a decision of the wrong shape on layer {}", a.layer);
    const RoutingEvent event{.layer = a.layer,
                             .pos0 = g.pos0,
                             .decision = &d,
                             .hidden = a.x + g.first * a.n_embd,
                             .n_embd = a.n_embd,
                             .logits = logits,
                             .config = &cfg,
                             .sequence = g.sequence};
    if (ctx.observers != nullptr && !ctx.observers->empty()) ctx.observers->notify(event);
    if (g.observers != nullptr && !g.observers->empty()) g.observers->notify(event);
  }
  return {};
}

// Stage 2: (token, slot) records t·k + j grouped by expert: counts, offsets, records per expert, active experts.
Status group_by_expert(const MoeLayerArgs& a, std::span<const MoeSegment> segs, int64_t k, MoeScratch& s) {
  const int64_t E = a.routing->n_expert;
  s.counts.assign(static_cast<size_t>(E), 0);
  s.offsets.assign(static_cast<size_t>(E) + 1, 0);
  s.seg_of_token.resize(static_cast<size_t>(a.n_tokens));
  for (size_t i = 0; i < segs.size(); ++i) {
    const RoutingDecision& d = s.decisions[i];
    std::fill_n(s.seg_of_token.begin() + segs[i].first, segs[i].n, static_cast<int64_t>(i));
    for (const int32_t id : d.ids) {
      if (id == kNoExpert) continue;  // padding of a variable-k policy: weight 0, no work
      if (id < 0 || id >= E) return fail(ErrorCode::kOutOfRange, "routing policy chose expert {} of {}", id, E);
      ++s.counts[static_cast<size_t>(id)];
    }
  }
  for (int64_t e = 0; e < E; ++e)
    s.offsets[static_cast<size_t>(e) + 1] = s.offsets[static_cast<size_t>(e)] + s.counts[static_cast<size_t>(e)];
  s.records.resize(static_cast<size_t>(s.offsets.back()));
  s.fill.assign(s.offsets.begin(), s.offsets.end() - 1);
  // Tokens in order, so each expert's records are ascending and a sequence's tokens stay together.
  for (size_t i = 0; i < segs.size(); ++i) {
    const RoutingDecision& d = s.decisions[i];
    for (int64_t t = 0; t < segs[i].n; ++t)
      for (int64_t j = 0; j < d.k; ++j) {
        const int32_t id = d.ids[static_cast<size_t>(t * d.k + j)];
        if (id != kNoExpert)
          s.records[static_cast<size_t>(s.fill[static_cast<size_t>(id)]++)] = (segs[i].first + t) * k + j;
      }
  }
  s.active.clear();
  for (int64_t e = 0; e < E; ++e)
    if (s.counts[static_cast<size_t>(e)] > 0) s.active.push_back(static_cast<int32_t>(e));
  return {};
}

// Stage 4 for one expert: acquire, gather its tokens, gate/up → activation → down once on the group, write each
// result to its record's row, release. Every row of every product is computed the same way however the work is
// split (matmul.h: a sequence's tokens are a run of their own), so the split never changes the numbers.
Status run_expert(const MoeLayerArgs& a, const MoeContext& ctx, int32_t e, int64_t k, ThreadPool& pool,
                  MoeScratch::Expert& x, MoeScratch& s) {
  auto handle = ctx.store->acquire(a.layer, e);
  if (!handle) return tl::unexpected(handle.error());
  const ExpertWeights& w = handle->weights();
  const int64_t d = a.n_embd, ff = a.n_ff, n = s.counts[static_cast<size_t>(e)],
                off = s.offsets[static_cast<size_t>(e)];
  const int64_t* records = s.records.data() + off;
  x.xg.resize(static_cast<size_t>(n * d));
  x.g.resize(static_cast<size_t>(n * ff));
  x.u.resize(static_cast<size_t>(n * ff));
  x.y.resize(static_cast<size_t>(n * d));
  x.run_ends.clear();
  for (int64_t r = 0; r < n; ++r) {
    const int64_t t = records[r] / k;
    std::copy_n(a.x + t * d, d, x.xg.data() + r * d);
    if (r + 1 == n || s.seg_of_token[static_cast<size_t>(records[r + 1] / k)] != s.seg_of_token[static_cast<size_t>(t)])
      x.run_ends.push_back(r + 1);
  }
  const kernels::MatmulOptions mm{.kind = kernels::MatmulKind::kExperts, .run_ends = x.run_ends, .scratch = &x.matmul};
  if (auto st = kernels::matmul(w.gate, x.xg.data(), n, x.g.data(), pool, mm); !st) return st;
  if (auto st = kernels::matmul(w.up, x.xg.data(), n, x.u.data(), pool, mm); !st) return st;
  add_bias_rows(x.g.data(), w.gate_bias, n, ff);
  add_bias_rows(x.u.data(), w.up_bias, n, ff);
  if (a.act == ExpertActivation::kSwigluOai)
    kernels::swiglu_oai(x.g.data(), x.u.data(), n * ff, x.g.data());
  else
    for (int64_t r = 0; r < n; ++r) kernels::swiglu(x.g.data() + r * ff, x.u.data() + r * ff, ff, x.g.data() + r * ff);
  if (auto st = kernels::matmul(w.down, x.g.data(), n, x.y.data(), pool, mm); !st) return st;
  add_bias_rows(x.y.data(), w.down_bias, n, d);
  for (int64_t r = 0; r < n; ++r) std::copy_n(x.y.data() + r * d, d, s.expert_out.data() + records[r] * d);
  return {};
}

// Stage 4: every active expert, in the store's ready-first order.
Status run_experts(const MoeLayerArgs& a, const MoeContext& ctx, int64_t k, MoeScratch& s) {
  ThreadPool& pool = *ctx.pool;
  ctx.store->ready_first(a.layer, s.active);
  if (s.experts.size() < static_cast<size_t>(pool.size())) s.experts.resize(static_cast<size_t>(pool.size()));
  if (pool.size() > 1 && s.active.size() >= 2 * static_cast<size_t>(pool.size())) {
    // Many active experts: one expert per task, each product on its own thread.
    s.results.assign(s.active.size(), Status{});
    pool.parallel_for(static_cast<int64_t>(s.active.size()), [&](int64_t i, int thread) {
      ThreadPool serial(1);  // no worker threads: runs inline on this one
      s.results[static_cast<size_t>(i)] =
          run_expert(a, ctx, s.active[static_cast<size_t>(i)], k, serial, s.experts[static_cast<size_t>(thread)], s);
    });
    for (const Status& r : s.results)
      if (!r) return r;
    return {};
  }
  // Few active experts: one after another, each product split over the pool.
  for (const int32_t e : s.active)
    if (auto st = run_expert(a, ctx, e, k, pool, s.experts[0], s); !st) return st;
  return {};
}

// Stage 5: weighted scatter-add, slot 0 first (the weight multiplies the expert's output), each token with its
// own segment's k so a token sums exactly the slots it would alone.
void scatter(const MoeLayerArgs& a, std::span<const MoeSegment> segs, int64_t k, const MoeScratch& s) {
  const int64_t d = a.n_embd;
  for (size_t i = 0; i < segs.size(); ++i) {
    const RoutingDecision& dec = s.decisions[i];
    for (int64_t tl = 0; tl < segs[i].n; ++tl) {
      const int64_t t = segs[i].first + tl;
      float* o = a.out + t * d;
      if (dec.k == 0) std::fill_n(o, d, 0.0f);
      for (int64_t j = 0; j < dec.k; ++j) {
        const float wj = dec.weights[static_cast<size_t>(tl * dec.k + j)];
        const float* src = s.expert_out.data() + (t * k + j) * d;
        if (j == 0)
          for (int64_t c = 0; c < d; ++c) o[c] = wj * src[c];
        else
          for (int64_t c = 0; c < d; ++c) o[c] += wj * src[c];
      }
    }
  }
}

}  // namespace

Status moe_ffn(const MoeLayerArgs& a, const MoeContext& ctx) {
  MoeScratch local;
  MoeScratch& s = ctx.scratch != nullptr ? *ctx.scratch : local;
  const MoeSegment whole{.first = 0, .n = a.n_tokens, .pos0 = a.pos0};
  const std::span<const MoeSegment> segs = a.segments.empty() ? std::span<const MoeSegment>(&whole, 1) : a.segments;
  if (a.n_tokens == 0) return {};

  if (auto st = route(a, ctx, segs, s); !st) return st;
  const int64_t k = slots_per_token(s, segs.size());
  if (auto st = group_by_expert(a, segs, k, s); !st) return st;
  // Padding records stay zero: a padded slot adds 0 · 0 as it would alone.
  s.expert_out.assign(static_cast<size_t>(a.n_tokens * k * a.n_embd), 0.0f);
  if (auto st = run_experts(a, ctx, k, s); !st) return st;
  scatter(a, segs, k, s);
  return {};
}

}  // namespace sy::moe
