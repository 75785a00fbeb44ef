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

// The routing weight of record t·k + j.
float record_weight(std::span<const MoeSegment> segs, const MoeScratch& s, int64_t record, int64_t k) {
  const int64_t t = record / k, j = record % k;
  const auto i = static_cast<size_t>(s.seg_of_token[static_cast<size_t>(t)]);
  const RoutingDecision& d = s.decisions[i];
  return d.weights[static_cast<size_t>((t - segs[i].first) * d.k + j)];
}

// Stage 4's acquire for an expert that was a miss when the layer routed, by the store's miss policy: low-bit
// takes the shadow copy (or the real one if it has arrived); skip waits when a token weighs it at skip_below or
// more, else takes it only if it has arrived — an empty handle means it is dropped for this pass.
Result<ExpertHandle> acquire_missing(const MoeLayerArgs& a, const MoeContext& ctx, std::span<const MoeSegment> segs,
                                     int32_t e, int64_t k, const MoeScratch& s) {
  const MissPolicy miss = ctx.store->miss_policy();
  if (miss.action == MissAction::kLowBit) return ctx.store->acquire_now(a.layer, e, /*low_bit=*/true);
  const int64_t n = s.counts[static_cast<size_t>(e)], off = s.offsets[static_cast<size_t>(e)];
  for (int64_t r = 0; r < n; ++r)
    if (record_weight(segs, s, s.records[static_cast<size_t>(off + r)], k) >= miss.skip_below)
      return ctx.store->acquire(a.layer, e);
  return ctx.store->acquire_now(a.layer, e, /*low_bit=*/false);
}

// Stage 4 for one expert: acquire, gather its tokens, gate/up → activation → down once on the group, write each
// result to its record's row, release. Every row of every product is computed the same way however the work is
// split (matmul.h: a sequence's tokens are a run of their own), so the split never changes the numbers.
// `missing`: the expert was a miss when the layer routed (ExpertStore::ready_first_split).
Status run_expert(const MoeLayerArgs& a, const MoeContext& ctx, std::span<const MoeSegment> segs, int32_t e,
                  bool missing, int64_t k, ThreadPool& pool, MoeScratch::Expert& x, MoeScratch& s) {
  auto handle = missing ? acquire_missing(a, ctx, segs, e, k, s) : ctx.store->acquire(a.layer, e);
  if (!handle) return tl::unexpected(handle.error());
  const int64_t d = a.n_embd, ff = a.n_ff, n = s.counts[static_cast<size_t>(e)],
                off = s.offsets[static_cast<size_t>(e)];
  const int64_t* records = s.records.data() + off;
  if (!*handle) {  // skipped: its rows stay zero and the scatter renormalises the token's other weights
    for (int64_t r = 0; r < n; ++r) s.dropped[static_cast<size_t>(records[r])] = 1;
    return {};
  }
  const ExpertWeights& w = handle->weights();
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
Status run_experts(const MoeLayerArgs& a, const MoeContext& ctx, std::span<const MoeSegment> segs, int64_t k,
                   MoeScratch& s) {
  ThreadPool& pool = *ctx.pool;
  const MissAction on_miss = ctx.store->miss_policy().action;
  size_t available = s.active.size();  // s.active[available..] were misses when the layer routed
  if (on_miss == MissAction::kWait)
    ctx.store->ready_first(a.layer, s.active);
  else
    available = ctx.store->ready_first_split(a.layer, s.active).available;
  if (on_miss == MissAction::kSkip)
    s.dropped.assign(static_cast<size_t>(a.n_tokens * k), 0);
  else
    s.dropped.clear();
  if (s.experts.size() < static_cast<size_t>(pool.size())) s.experts.resize(static_cast<size_t>(pool.size()));
  if (pool.size() > 1 && s.active.size() >= 2 * static_cast<size_t>(pool.size())) {
    // Many active experts: one expert per task, each product on its own thread.
    s.results.assign(s.active.size(), Status{});
    pool.parallel_for(static_cast<int64_t>(s.active.size()), [&](int64_t i, int thread) {
      ThreadPool serial(1);  // no worker threads: runs inline on this one
      s.results[static_cast<size_t>(i)] =
          run_expert(a, ctx, segs, s.active[static_cast<size_t>(i)], static_cast<size_t>(i) >= available, k, serial,
                     s.experts[static_cast<size_t>(thread)], s);
    });
    for (const Status& r : s.results)
      if (!r) return r;
    return {};
  }
  // Few active experts: one after another, each product split over the pool.
  for (size_t i = 0; i < s.active.size(); ++i)
    if (auto st = run_expert(a, ctx, segs, s.active[i], i >= available, k, pool, s.experts[0], s); !st) return st;
  return {};
}

// For a token with skipped slots (s.dropped): the factor that brings its kept weights back to the sum all its
// weights had (0 when every slot was skipped: the token's routed output is then 0). 1 when none was skipped.
float kept_weight_scale(const RoutingDecision& dec, int64_t tl, int64_t t, int64_t k, const MoeScratch& s) {
  if (s.dropped.empty()) return 1.0f;
  double all = 0.0, kept = 0.0;
  bool any = false;
  for (int64_t j = 0; j < dec.k; ++j) {
    const float w = dec.weights[static_cast<size_t>(tl * dec.k + j)];
    all += w;
    if (s.dropped[static_cast<size_t>(t * k + j)] != 0)
      any = true;
    else
      kept += w;
  }
  if (!any) return 1.0f;
  return kept > 0.0 ? static_cast<float>(all / kept) : 0.0f;
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
      const float scale = kept_weight_scale(dec, tl, t, k, s);
      for (int64_t j = 0; j < dec.k; ++j) {
        float wj = dec.weights[static_cast<size_t>(tl * dec.k + j)];
        if (scale != 1.0f) wj = s.dropped[static_cast<size_t>(t * k + j)] != 0 ? 0.0f : wj * scale;
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
  if (auto st = run_experts(a, ctx, segs, k, s); !st) return st;
  scatter(a, segs, k, s);
  return {};
}

}  // namespace sy::moe
