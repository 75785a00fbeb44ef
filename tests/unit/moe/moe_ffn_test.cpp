// The MoE dataflow on a hand-built layer: results equal Σ_j w_j · expert_j(x) computed directly, every
// expert is reached through the ExpertStore (acquire/release balanced), observers see each decision, and a
// user policy replaces the native one without touching the dataflow.
#include "moe/moe_ffn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace sy::moe {
namespace {

constexpr int64_t kE = 3, kD = 4, kFf = 2;

struct Layer {
  std::vector<float> router, gate, up, down;
  Layer() {
    for (int i = 0; i < kE * kD; ++i) router.push_back(std::sin(0.7f * static_cast<float>(i)));
    for (int i = 0; i < kE * kFf * kD; ++i) gate.push_back(std::cos(0.3f * static_cast<float>(i)));
    for (int i = 0; i < kE * kFf * kD; ++i) up.push_back(std::sin(0.2f * static_cast<float>(i) + 1.0f));
    for (int i = 0; i < kE * kD * kFf; ++i) down.push_back(std::cos(0.45f * static_cast<float>(i) + 0.5f));
  }
  LayerExperts experts() const {
    auto t = [](const std::vector<float>& v, int64_t cols, int64_t rows) {
      return ExpertTensor{.type = TensorType::kF32,
                          .n_cols = cols,
                          .n_rows = rows,
                          .n_expert = kE,
                          .data = reinterpret_cast<const uint8_t*>(v.data())};
    };
    return LayerExperts{.gate = t(gate, kD, kFf), .up = t(up, kD, kFf), .down = t(down, kFf, kD)};
  }
  // Direct evaluation of one expert: down · (silu(gate·x) ⊙ up·x).
  std::vector<float> expert(int e, const float* x) const {
    std::vector<float> a(kFf), y(kD, 0.0f);
    for (int r = 0; r < kFf; ++r) {
      float g = 0, u = 0;
      for (int c = 0; c < kD; ++c) {
        g += gate[static_cast<size_t>((e * kFf + r) * kD + c)] * x[c];
        u += up[static_cast<size_t>((e * kFf + r) * kD + c)] * x[c];
      }
      a[static_cast<size_t>(r)] = g / (1 + std::exp(-g)) * u;
    }
    for (int r = 0; r < kD; ++r)
      for (int c = 0; c < kFf; ++c)
        y[static_cast<size_t>(r)] += down[static_cast<size_t>((e * kD + r) * kFf + c)] * a[static_cast<size_t>(c)];
    return y;
  }
};

// Counts acquisitions and releases and the most experts held at once; optionally reverses the order the forward
// pass computes experts in (which must not change a bit of the result).
class CountingStore final : public ExpertStore {
 public:
  explicit CountingStore(ExpertStore& inner, bool reverse = false) : inner_(inner), reverse_(reverse) {}
  Result<ExpertHandle> acquire(int32_t layer, int32_t expert) override {
    auto h = inner_.acquire(layer, expert);
    if (!h) return h;
    ++acquired;
    max_held = std::max(max_held, ++held);
    inner_handles.push_back(std::move(*h));
    return ExpertHandle(this, layer, expert, inner_handles.back().weights());
  }
  size_t ready_first(int32_t layer, std::span<int32_t> experts) override {
    if (reverse_) std::reverse(experts.begin(), experts.end());
    return experts.size();
  }
  int acquired = 0, released = 0, held = 0, max_held = 0;
  std::vector<ExpertHandle> inner_handles;

 protected:
  void release(int32_t, int32_t) noexcept override {
    ++released;
    --held;
  }

 private:
  ExpertStore& inner_;
  bool reverse_;
};

class Recorder final : public RoutingObserver {
 public:
  void on_routing(const RoutingEvent& e) override { decisions.push_back(*e.decision); }
  std::vector<RoutingDecision> decisions;
};

// Always picks expert 2 with weight 1: a user policy.
class OnlyExpertTwo final : public RoutingPolicy {
 public:
  void route(const RoutingConfig&, const RouterOutput& in, RoutingDecision& out) override {
    out.n_tokens = in.n_tokens;
    out.k = 1;
    out.ids.assign(static_cast<size_t>(in.n_tokens), 2);
    out.weights.assign(static_cast<size_t>(in.n_tokens), 1.0f);
  }
};

TEST(MoeFfn, MatchesDirectSumThroughTheStore) {
  Layer layer;
  ResidentExpertStore resident({layer.experts()});
  CountingStore store(resident);
  ThreadPool pool(2);
  NativeRoutingPolicy native;
  Recorder recorder;
  ObserverList observers;
  observers.add(&recorder);
  const RoutingConfig cfg{.gating = Gating::kSoftmax, .n_expert = kE, .n_used = 2, .norm_weights = true};
  const std::vector<float> x = {0.5f, -1.0f, 0.25f, 2.0f, /*t1*/ -0.3f, 0.8f, 1.5f, -0.7f, /*t2*/ 1, 1, 1, 1};
  std::vector<float> out(x.size());
  const MoeLayerArgs args{
      .layer = 0,
      .routing = &cfg,
      .router = {TensorType::kF32, kD, kE, reinterpret_cast<const uint8_t*>(layer.router.data()), kD * sizeof(float)},
      .x = x.data(),
      .n_tokens = 3,
      .n_embd = kD,
      .n_ff = kFf,
      .out = out.data()};
  ASSERT_TRUE(moe_ffn(args, MoeContext{.policy = &native, .store = &store, .observers = &observers, .pool = &pool}));
  ASSERT_EQ(recorder.decisions.size(), 1u);
  const RoutingDecision& d = recorder.decisions[0];
  for (int t = 0; t < 3; ++t) {
    std::vector<float> want(kD, 0.0f);
    for (int j = 0; j < 2; ++j) {
      const auto y = layer.expert(d.ids[static_cast<size_t>(t * 2 + j)], x.data() + t * kD);
      for (int i = 0; i < kD; ++i)
        want[static_cast<size_t>(i)] += d.weights[static_cast<size_t>(t * 2 + j)] * y[static_cast<size_t>(i)];
    }
    for (int i = 0; i < kD; ++i) EXPECT_NEAR(out[static_cast<size_t>(t * kD + i)], want[static_cast<size_t>(i)], 1e-5);
  }
  EXPECT_GT(store.acquired, 0);
  EXPECT_EQ(store.acquired, store.released);
  // One expert at a time on this path: a cache never has to hold a whole layer.
  EXPECT_EQ(store.max_held, 1);

  // The order the experts run in never changes the numbers.
  CountingStore reversed(resident, /*reverse=*/true);
  std::vector<float> out_reversed(x.size());
  MoeLayerArgs args_reversed = args;
  args_reversed.out = out_reversed.data();
  ASSERT_TRUE(
      moe_ffn(args_reversed, MoeContext{.policy = &native, .store = &reversed, .observers = nullptr, .pool = &pool}));
  EXPECT_EQ(out, out_reversed);

  OnlyExpertTwo only_two;
  ASSERT_TRUE(moe_ffn(args, MoeContext{.policy = &only_two, .store = &store, .observers = nullptr, .pool = &pool}));
  const auto y = layer.expert(2, x.data());
  for (int i = 0; i < kD; ++i) EXPECT_NEAR(out[static_cast<size_t>(i)], y[static_cast<size_t>(i)], 1e-5);
}

TEST(MoeFfn, StoreRejectsUnknownExperts) {
  Layer layer;
  ResidentExpertStore store({layer.experts()});
  EXPECT_FALSE(store.acquire(0, 7));
  EXPECT_FALSE(store.acquire(0, -1));
  EXPECT_FALSE(store.acquire(3, 0));
  auto h = store.acquire(0, 2);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->weights().gate.data, reinterpret_cast<const uint8_t*>(layer.gate.data()) + 2 * kFf * kD * sizeof(float));
}

// Handles release exactly once, also when moved from.
TEST(MoeFfn, HandlesReleaseOnce) {
  Layer layer;
  ResidentExpertStore resident({layer.experts()});
  CountingStore store(resident);
  {
    auto a = store.acquire(0, 1);
    ASSERT_TRUE(a);
    ExpertHandle b = std::move(*a);
    ExpertHandle c;
    c = std::move(b);
    EXPECT_TRUE(c);
    EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move): moved-from handles are empty by contract
    EXPECT_EQ(store.released, 0);
  }
  EXPECT_EQ(store.acquired, 1);
  EXPECT_EQ(store.released, 1);
}

}  // namespace
}  // namespace sy::moe
