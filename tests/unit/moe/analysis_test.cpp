// Routing analysis figures on small hand-made streams; every expected value is worked out by hand in the
// comments (no value comes from running the code).
#include <gtest/gtest.h>

#include <cmath>

#include "moe/analysis/load_stats.h"
#include "moe/analysis/locality.h"
#include "moe/analysis/prune.h"
#include "moe/analysis/report.h"
#include "moe/analysis/sch.h"
#include "moe/analysis/streams.h"

namespace sy::moe::analysis {
namespace {

LayerStream stream(int32_t layer, int32_t n_expert, int32_t k, std::vector<std::vector<int32_t>> tokens,
                   std::vector<uint32_t> seq = {}) {
  LayerStream s{.layer = layer, .n_expert = n_expert, .k = k, .tokens = std::move(tokens)};
  s.seq = seq.empty() ? std::vector<uint32_t>(s.tokens.size(), 0) : seq;
  for (size_t t = 0; t < s.tokens.size(); ++t) s.pos.push_back(static_cast<uint32_t>(t));
  s.pred.resize(s.tokens.size());
  return s;
}

// Layer A: 4 experts, k 2, one sequence of 4 tokens.
LayerStream layer_a() { return stream(1, 4, 2, {{0, 1}, {0, 2}, {0, 1}, {3, 1}}); }
// The next layer for the same tokens.
LayerStream layer_b() { return stream(2, 4, 2, {{2, 3}, {2, 0}, {2, 3}, {1, 2}}); }

TEST(LoadStats, LoadAndBalance) {
  const auto load = expert_load(layer_a());
  EXPECT_EQ(load, (std::vector<uint64_t>{3, 3, 1, 1}));
  const Balance b = balance(load);
  EXPECT_NEAR(b.max_over_mean, 1.5, 1e-12);  // 3 / (8/4)
  EXPECT_NEAR(b.cv, 0.5, 1e-12);             // deviations ±1 around 2: std 1
  // p = 3/8 3/8 1/8 1/8: H = 0.75·ln(8/3) + 0.25·ln 8 = 1.2554823; / ln 4
  EXPECT_NEAR(b.norm_entropy, 1.2554823 / std::log(4.0), 1e-6);
  const Balance even = balance(std::vector<uint64_t>{5, 5, 5, 5});
  EXPECT_NEAR(even.max_over_mean, 1.0, 1e-12);
  EXPECT_NEAR(even.cv, 0.0, 1e-12);
  EXPECT_NEAR(even.norm_entropy, 1.0, 1e-12);
  EXPECT_EQ(balance(std::vector<uint64_t>{0, 0}).cv, 0.0);  // no tokens: all zero, no division by zero
}

TEST(LoadStats, CoActivation) {
  const auto m = co_activation(layer_a());
  // Pairs: {0,1} at t0 and t2, {0,2} at t1, {1,3} at t3.
  EXPECT_EQ(m, (std::vector<uint64_t>{0, 2, 1, 0,  //
                                      2, 0, 0, 1,  //
                                      1, 0, 0, 0,  //
                                      0, 1, 0, 0}));
}

TEST(LoadStats, InterLayerAffinity) {
  const Affinity a = affinity(layer_a(), layer_b());
  // Expert 0 at A (t0 t1 t2) → B {2,3} {2,0} {2,3}: P(2|0) = 3/3, P(3|0) = 2/3, P(0|0) = 1/3.
  EXPECT_EQ(a.from, (std::vector<uint64_t>{3, 3, 1, 1}));
  EXPECT_NEAR(a.prob[0 * 4 + 2], 1.0, 1e-12);
  EXPECT_NEAR(a.prob[0 * 4 + 3], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(a.prob[0 * 4 + 0], 1.0 / 3.0, 1e-12);
  EXPECT_EQ(a.counts[3 * 4 + 1], 1u);  // t3: 3 → {1, 2}
  // Row shares: expert 0's 6 successor slots go 3 to 2, 2 to 3, 1 to 0 → 1/2, 1/3, 1/6 (sum 1).
  EXPECT_NEAR(a.row_share[0 * 4 + 2], 0.5, 1e-12);
  EXPECT_NEAR(a.row_share[0 * 4 + 3], 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(a.row_share[0 * 4 + 0], 1.0 / 6.0, 1e-12);
  // Rows 0 and 1: 5 of 6 successors in their top 2; rows 2, 3: all. Weighted by from: (2.5+2.5+1+1)/8.
  EXPECT_NEAR(a.top_k_mass, 7.0 / 8.0, 1e-12);
}

TEST(LoadStats, AffinityJoinsOnSequenceAndPosition) {
  LayerStream b = layer_b();
  b.seq = {5, 5, 5, 5};  // other sequences: nothing in common
  const Affinity a = affinity(layer_a(), b);
  EXPECT_EQ(a.from, (std::vector<uint64_t>{0, 0, 0, 0}));
  EXPECT_EQ(a.top_k_mass, 0.0);
}

TEST(LoadStats, PredictionRecall) {
  LayerStream b = layer_b();
  b.pred = {{2, 1}, {}, {2, 3}, {0, 3}};  // hits 1, (none), 2, 0 of 2 each
  const Recall r = prediction_recall(b);
  EXPECT_EQ(r.hits, 3u);
  EXPECT_EQ(r.chosen, 6u);
  EXPECT_NEAR(r.value(), 0.5, 1e-12);
}

TEST(Locality, SegmentRoutingBestPerformance) {
  // m = 2: windows (t0,t1) c = 2 1 1 0, (t1,t2) 2 1 1 0, (t2,t3) 1 2 0 1; actual 12.
  // τ = 1: 9 pairs, matches 12, predictions 18 → F1 24/30. τ = 2: 3 pairs, matches 6, predictions 6 → 12/18.
  const SrpCounts c = srp_counts(layer_a(), 2);
  EXPECT_EQ(c.actual, 12u);
  EXPECT_EQ(c.matches, (std::vector<uint64_t>{12, 6}));
  EXPECT_EQ(c.predictions, (std::vector<uint64_t>{18, 6}));
  const Srp s = best_srp(c);
  EXPECT_NEAR(s.f1, 0.8, 1e-12);
  EXPECT_EQ(s.tau, 1);
  EXPECT_NEAR(s.ratio, 1.5, 1e-12);
  EXPECT_NEAR(best_srp(srp_counts(layer_a(), 1)).f1, 1.0, 1e-12);  // one token per segment: exact
  EXPECT_EQ(srp_counts(layer_a(), 5).actual, 0u);                  // no window fits
}

TEST(Locality, SegmentsNeverSpanSequences) {
  // Two sequences {0}{0} | {1}{1}: the windows are uniform, F1 = 1. A window across them would not be.
  const LayerStream s = stream(0, 2, 1, {{0}, {0}, {1}, {1}}, {0, 0, 1, 1});
  EXPECT_NEAR(best_srp(srp_counts(s, 2)).f1, 1.0, 1e-12);
  SrpCounts sum;
  accumulate(sum, srp_counts(s, 2));
  accumulate(sum, srp_counts(layer_a(), 2));
  EXPECT_EQ(sum.actual, 4u + 12u);
  EXPECT_EQ(sum.matches[0], 4u + 12u);
}

// k = 1 over 3 experts: 0 1 0 2 1 1 0.
LayerStream cache_stream() { return stream(0, 3, 1, {{0}, {1}, {0}, {2}, {1}, {1}, {0}}); }

TEST(Locality, CachePoliciesCapacityTwo) {
  // LRU: hit at t2; t3 evicts 1; t4 evicts 0; hit t5; t6 misses → 2/7.
  EXPECT_NEAR(cache_hit_rate(cache_stream(), 2, CachePolicy::kLru), 2.0 / 7.0, 1e-12);
  // LFU: t3 evicts 1 (1 use vs 2); t4 evicts 2 (1 use vs 2); hits t2 t5 t6 → 3/7.
  EXPECT_NEAR(cache_hit_rate(cache_stream(), 2, CachePolicy::kLfu), 3.0 / 7.0, 1e-12);
  // Belady: t3 evicts 0 (next use t6, farther than 1's t4); hits t2 t4 t5 → 3/7.
  EXPECT_NEAR(cache_hit_rate(cache_stream(), 2, CachePolicy::kBelady), 3.0 / 7.0, 1e-12);
}

TEST(Locality, CacheEdgeCapacities) {
  // Capacity 3 holds every expert: only the 3 first uses miss → 4/7. Capacity 0: nothing hits.
  for (CachePolicy p : {CachePolicy::kLru, CachePolicy::kLfu, CachePolicy::kBelady})
    EXPECT_NEAR(cache_hit_rate(cache_stream(), 3, p), 4.0 / 7.0, 1e-12);
  EXPECT_EQ(cache_hit_rate(cache_stream(), 0, CachePolicy::kLru), 0.0);
  // k 2 with capacity 2 (layer A): every cached expert is in use or evictable; LRU by hand → hits t1 t2 t3 = 3/8.
  EXPECT_NEAR(cache_hit_rate(layer_a(), 2, CachePolicy::kLru), 3.0 / 8.0, 1e-12);
  // Capacity 1 < k: a token's own experts are never evicted for each other; t0 keeps 0, 0 hits t1 t2 → 2/8.
  EXPECT_NEAR(cache_hit_rate(layer_a(), 1, CachePolicy::kLru), 2.0 / 8.0, 1e-12);
}

// SCH under the paper's rules (sch.h), worked by hand.
TEST(Sch, WarmStartAndWindowOnOneSequence) {
  // cache_stream, k 1: 0 1 0 2 1 1 0. L = 1 is LRU with a warm start.
  // C 1: t0 is a first use with the cache not full → hit; t1 t2 t3 t4 miss; t5 hits; t6 misses → 2/7.
  // C 2: t0 t1 warm hits, t2 hits; t3 evicts 1 (used t1, before 0 at t2); t4 evicts 0; t5 hits; t6 misses → 4/7.
  // C 3 = n_expert: exactly 1.
  const auto l1 = sch(cache_stream(), 1);
  ASSERT_EQ(l1.size(), 3u);
  EXPECT_NEAR(l1[0], 2.0 / 7.0, 1e-12);
  EXPECT_NEAR(l1[1], 4.0 / 7.0, 1e-12);
  EXPECT_EQ(l1[2], 1.0);
  // L = 2 (window t, t+1): at t3, 0 is not used in t3–t4 and 1 is (t4) → evict 0; t4 and t5 hit → 5/7 at C 2.
  const auto l2 = sch(cache_stream(), 2);
  EXPECT_NEAR(l2[0], 2.0 / 7.0, 1e-12);
  EXPECT_NEAR(l2[1], 5.0 / 7.0, 1e-12);
}

TEST(Sch, WithinATokenHitsAreJudgedAtItsStartAndItsOwnExpertsMayBeEvicted) {
  // E 3, k 2, L 2: t0 {1,2}, t1 {0,1}, t2 {2,0}. C 2: t0's two first uses are warm hits (cache {1,2}).
  // t1: 0 is new with the cache full → miss; 1 is cached when t1 begins → hit. Serving 0 evicts the lowest of
  // 1 (window t1–t2: 1 use, last used at slot 1) and 2 (1 use, slot 2): 1, which the token itself uses; serving
  // 1 then brings it back and evicts 2 (0 has 1 window use left and the later stamp). t2: 2 misses, 0 hits → 4/6.
  // C 1: t0 hits once (warm), t1 and t2 miss → 1/6.
  LayerStream s = stream(0, 3, 2, {{1, 2}, {0, 1}, {2, 0}});
  const auto r = sch(s, 2);
  EXPECT_NEAR(r[0], 1.0 / 6.0, 1e-12);
  EXPECT_NEAR(r[1], 4.0 / 6.0, 1e-12);
  EXPECT_EQ(r[2], 1.0);
}

TEST(Sch, SequencesStartFreshAndAreAveraged) {
  // Sequence 0: 0 1 0 (C 1: warm hit, then two misses → 1/3); sequence 1: 2 (a warm hit → 1).
  // Mean over sequences (1/3 + 1) / 2 = 2/3, not the pooled 2/4.
  LayerStream s = stream(0, 3, 1, {{0}, {1}, {0}, {2}}, {0, 0, 0, 1});
  EXPECT_NEAR(sch(s, 1)[0], 2.0 / 3.0, 1e-12);
}

// The paper's rules simulated directly, one cache per capacity (no stack): the reference the one-pass stack
// algorithm in sch.cpp must equal on random streams, for every capacity and look-ahead.
std::vector<double> sch_direct(const std::vector<std::vector<int32_t>>& tokens, int32_t n_expert, int32_t L) {
  std::vector<double> out;
  uint64_t uses = 0;
  for (const auto& t : tokens) uses += t.size();
  for (int32_t C = 1; C <= n_expert; ++C) {
    std::vector<int32_t> cache;
    std::vector<uint64_t> stamp(static_cast<size_t>(n_expert), 0);
    std::vector<int64_t> window(static_cast<size_t>(n_expert), 0);
    std::vector<bool> seen(static_cast<size_t>(n_expert), false);
    size_t n_seen = 0;
    uint64_t now = 0, hits = 0;
    for (size_t t = 0; t < tokens.size(); ++t) {
      std::fill(window.begin(), window.end(), 0);
      for (size_t u = t; u < std::min(tokens.size(), t + static_cast<size_t>(L)); ++u)
        for (int32_t e : tokens[u]) ++window[static_cast<size_t>(e)];
      const std::vector<int32_t> at_start = cache;
      size_t seen_now = n_seen;
      for (int32_t e : tokens[t]) {
        const bool cached = std::find(at_start.begin(), at_start.end(), e) != at_start.end();
        if (cached) ++hits;
        if (!seen[static_cast<size_t>(e)] && seen_now++ < static_cast<size_t>(C)) ++hits;  // the warm start
      }
      for (int32_t e : tokens[t]) {
        const auto x = static_cast<size_t>(e);
        if (!seen[x]) seen[x] = true, ++n_seen;
        if (std::find(cache.begin(), cache.end(), e) == cache.end()) {
          if (static_cast<int32_t>(cache.size()) < C) {
            cache.push_back(e);
          } else {
            auto victim = std::min_element(cache.begin(), cache.end(), [&](int32_t a, int32_t b) {
              const auto i = static_cast<size_t>(a), j = static_cast<size_t>(b);
              return window[i] != window[j] ? window[i] < window[j] : stamp[i] < stamp[j];
            });
            *victim = e;
          }
        }
        --window[x];
        stamp[x] = ++now;
      }
    }
    out.push_back(static_cast<double>(hits) / static_cast<double>(uses));
  }
  return out;
}

TEST(Sch, StackPassEqualsADirectSimulationPerCapacity) {
  uint64_t state = 12345;
  auto next = [&](uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  for (int trial = 0; trial < 300; ++trial) {
    const auto E = static_cast<int32_t>(2 + next(9));
    const auto k = static_cast<int32_t>(1 + next(std::min<uint64_t>(4, static_cast<uint64_t>(E))));
    const auto L = static_cast<int32_t>(1 + next(6));
    std::vector<std::vector<int32_t>> tokens(1 + next(30));
    for (auto& ids : tokens) {
      const int32_t pool = next(2) != 0 ? E : std::min(E, k + 2);  // some runs of strong locality
      while (static_cast<int32_t>(ids.size()) < k) {
        const auto e = static_cast<int32_t>(next(static_cast<uint64_t>(pool)));
        if (std::find(ids.begin(), ids.end(), e) == ids.end()) ids.push_back(e);
      }
    }
    const auto want = sch_direct(tokens, E, L);
    const auto got = sch_rates(sch_sequence(tokens, E, L));
    ASSERT_EQ(got.size(), want.size());
    for (size_t c = 0; c < want.size(); ++c)
      ASSERT_NEAR(got[c], want[c], 1e-12)
          << "trial " << trial << " E " << E << " k " << k << " L " << L << " C " << c + 1;
  }
}

TEST(Sch, ModelLevelJoinsLayers) {
  // Layer 1 (E 2): 0 1; layer 2 (E 2): 1 1 → joined ids {0, 3}, {1, 3} over 4 experts, L 1.
  // C 1: t0: 0 warm hit, 3 misses; t1: 1 misses, 3 (on top) hits → 2/4. C 2: t0 both warm, t1 3 hits → 3/4.
  const LayerStream layers[] = {stream(1, 2, 1, {{0}, {1}}), stream(2, 2, 1, {{1}, {1}})};
  const LayerStream m = model_stream(layers);
  EXPECT_EQ(m.n_expert, 4);
  EXPECT_EQ(m.tokens, (std::vector<std::vector<int32_t>>{{0, 3}, {1, 3}}));
  const auto r = model_sch(layers, 1);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_NEAR(r[0], 0.5, 1e-12);
  EXPECT_NEAR(r[1], 0.75, 1e-12);
  EXPECT_EQ(r[2], 1.0);
  EXPECT_EQ(r[3], 1.0);
}

// A calibration trace by hand: one layer (block 1), 4 experts, k 1, three tokens.
trace::Trace calibration() {
  trace::Trace t;
  t.header = {.n_layer = 2, .slots = 1, .top_n = 2, .layers = {{1, 4, 1}}};
  t.records = {{.layer = 1, .ids = {2}, .weights = {0.9f}, .top_ids = {2, 0}, .top_probs = {0.6f, 0.3f}},
               {.pos = 1, .layer = 1, .ids = {0}, .weights = {0.5f}, .top_ids = {0, 3}, .top_probs = {0.5f, 0.2f}},
               {.pos = 2, .layer = 1, .ids = {0}, .weights = {0.4f}, .top_ids = {0, 1}, .top_probs = {0.4f, 0.35f}}};
  return t;
}

TEST(Prune, ScoresAndChoice) {
  // freq: 0 → 2, 2 → 1, 1 and 3 → 0; keep 2 → {0, 2}; the 1–3 tie keeps the lower id when keeping 3.
  auto f = choose_experts(calibration(), {.keep = 2});
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ((*f)[0].kept, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ((*f)[0].pruned, (std::vector<int32_t>{1, 3}));
  EXPECT_EQ((*choose_experts(calibration(), {.keep = 3}))[0].kept, (std::vector<int32_t>{0, 1, 2}));
  // mass: 0 → 0.5f + 0.4f, 2 → 0.9f (in float 0.9f is a hair below 0.5f + 0.4f summed in double); keep 1 → 0.
  auto m = choose_experts(calibration(), {.keep = 1, .score = PruneScore::kMass});
  EXPECT_EQ((*m)[0].kept, (std::vector<int32_t>{0}));
  // tcess, r = 1/4: p ≥ 0.25 counts. 0: (0.3 + 0.5 + 0.4) / 3 = 0.4; 1: 0.35 / 3; 2: 0.6 / 3 = 0.2; 3: 0.2 < r.
  auto c = choose_experts(calibration(), {.keep = 2, .score = PruneScore::kTcess});
  ASSERT_TRUE(c);
  EXPECT_NEAR((*c)[0].score[0], 0.4, 1e-6);
  EXPECT_NEAR((*c)[0].score[1], 0.35 / 3, 1e-6);
  EXPECT_EQ((*c)[0].score[3], 0.0);
  EXPECT_EQ((*c)[0].kept, (std::vector<int32_t>{0, 2}));
  // r = 0.5: only 0.6 (expert 2) and 0.5 (expert 0) count → 2 first.
  auto c5 = choose_experts(calibration(), {.keep = 1, .score = PruneScore::kTcess, .tcess_threshold = 0.5});
  EXPECT_EQ((*c5)[0].kept, (std::vector<int32_t>{2}));
  // keep 0.5 of 4 = 2.
  EXPECT_EQ((*choose_experts(calibration(), {.keep_fraction = 0.5}))[0].kept.size(), 2u);
  EXPECT_EQ(expert_mask_text(*f, "x\ny"), "# x\n# y\n1: 1 3\n");
}

TEST(Prune, Errors) {
  EXPECT_FALSE(choose_experts(calibration(), {.keep = 5}));                      // more than the layer has
  EXPECT_FALSE(choose_experts(calibration(), {.keep_fraction = 1.5}));           // not in (0, 1]
  EXPECT_FALSE(choose_experts(calibration(), {.keep_fraction = std::nan("")}));  // NaN
  trace::Trace t = calibration();
  t.records[1].weights[0] = std::nanf("");
  EXPECT_FALSE(choose_experts(t, {.keep = 2, .score = PruneScore::kMass}));  // NaN weight
  t.header.top_n = 0;
  const auto no_probs = choose_experts(t, {.keep = 2, .score = PruneScore::kTcess});
  ASSERT_FALSE(no_probs);
  EXPECT_NE(no_probs.error().message.find("--trace-top"), std::string::npos);
  t = calibration();
  t.header.layers[0].native_k = 2;
  EXPECT_FALSE(choose_experts(t, {.keep = 1}));  // fewer than k
}

TEST(Diff, DivergenceAndOverlap) {
  // Identical loads: 0. Disjoint: 1. {1,1} vs {1,0}: M = (3/4, 1/4); JS = ½·[½log2(⅔)+½log2(2)] + ½·log2(4/3).
  const uint64_t a[] = {1, 1}, b[] = {1, 0}, c[] = {0, 5};
  EXPECT_EQ(js_divergence(a, a), 0.0);
  EXPECT_NEAR(js_divergence(b, c), 1.0, 1e-12);
  const double want = 0.5 * (0.5 * std::log2(2.0 / 3.0) + 0.5 * std::log2(2.0)) + 0.5 * std::log2(4.0 / 3.0);
  EXPECT_NEAR(js_divergence(a, b), want, 1e-12);
  const uint64_t load[] = {3, 7, 7, 1};
  EXPECT_EQ(busiest(load, 2), (std::vector<int32_t>{1, 2}));
  trace::Trace x = calibration(), y = calibration();
  y.records[0].ids = {3};  // loads {2,0,1,0} vs {2,0,0,1}: top-1 both 0 → overlap 1
  auto d = routing_diff(x, "x", y, "y");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ((*d)["layers"][0]["busiest_overlap"].get<double>(), 1.0);
  EXPECT_NEAR((*d)["layers"][0]["total_variation"].get<double>(), 1.0 / 3.0, 1e-12);
  y.header.layers[0].n_expert = 8;
  EXPECT_FALSE(routing_diff(x, "x", y, "y"));  // not the same model
}

TEST(Streams, FromATrace) {
  trace::Trace t;
  t.header = {.n_layer = 3, .slots = 2, .layers = {{1, 4, 2}, {2, 4, 2}}};
  t.records = {{.seq = 0, .pos = 0, .layer = 1, .ids = {0, 1}},
               {.seq = 0, .pos = 0, .layer = 2, .ids = {2, 3}},
               {.seq = 0, .pos = 1, .layer = 1, .ids = {0, 2}, .pred = {}},
               {.seq = 0, .pos = 1, .layer = 2, .ids = {2}, .pred = {2, 0}}};
  const auto s = layer_streams(t);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].layer, 1);
  EXPECT_EQ(s[0].tokens, (std::vector<std::vector<int32_t>>{{0, 1}, {0, 2}}));
  EXPECT_EQ(s[1].pos, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(s[1].pred[1], (std::vector<int32_t>{2, 0}));
}

}  // namespace
}  // namespace sy::moe::analysis
