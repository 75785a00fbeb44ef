// Matmul throughput per weight type on 2 threads (override with SY_BENCH_THREADS):
//   decode/<type>   n_tokens = 1, a weight matrix larger than the last-level cache: GB/s of weights streamed.
//   prefill/<type>  n_tokens = 64 on a 4096 × 4096 matrix: tokens/s.
//   prefill_expert/<type>  the same as an expert product (MatmulKind::kExperts), which for some types runs in
//                   another float order, with other kernels (llama.cpp's MUL_MAT_ID order).
//   dot/<type>      one row's dot product on one thread, in L1: GB/s of weights (the kernels' own ceiling).
// Run: build/bench/sy_kernels_bench [--benchmark_filter=decode]
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernel_test_util.h"
#include "kernels/matmul/matmul.h"
#include "kernels/quant/quant.h"

namespace sy::kernels {
namespace {

constexpr int64_t kCols = 4096;
constexpr size_t kDecodeBytes = size_t{1} << 30;  // twice the 480 MiB L3 of the current test machines

int bench_threads() {
  const char* env = std::getenv("SY_BENCH_THREADS");
  return env ? std::max(1, std::atoi(env)) : 2;
}

ThreadPool& pool() {
  static ThreadPool p(bench_threads());
  return p;
}

// Rows of the decode matrices: about kDecodeBytes, a multiple of kGemmRows as a model's matrices are (llama.cpp
// leaves other row counts unpacked, and so they take the plain-order kernels, without a multi-token path).
int64_t decode_rows(TensorType type) {
  return static_cast<int64_t>(kDecodeBytes / row_bytes(type, kCols)) / kGemmRows * kGemmRows;
}

MatrixView view(TensorType type, int64_t n_rows, const std::vector<uint8_t>& bytes) {
  return MatrixView{
      .type = type, .n_cols = kCols, .n_rows = n_rows, .data = bytes.data(), .row_stride = row_bytes(type, kCols)};
}

void bench_decode(benchmark::State& state, TensorType type) {
  std::mt19937 rng(1);
  const int64_t n_rows = decode_rows(type);
  const auto w = test::make_rows(type, n_rows, kCols, rng, /*random_bytes=*/true);
  const auto x = test::gaussian(kCols, rng);
  std::vector<float> y(static_cast<size_t>(n_rows));
  const MatrixView m = view(type, n_rows, w);
  for (auto _ : state) {
    if (!matmul(m, x.data(), 1, y.data(), pool())) state.SkipWithError("matmul failed");
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
}

// One token of each of n_seq sequences (each a run of its own, as Engine::step gives them): the weights stream once
// for all of them. GB/s of weights and tokens/s; with n_seq = 1 the same product as decode/<type>.
void bench_decode_batch(benchmark::State& state, TensorType type, MatmulKind kind, int n_seq) {
  std::mt19937 rng(1);
  const int64_t n_rows = decode_rows(type);
  const auto w = test::make_rows(type, n_rows, kCols, rng, /*random_bytes=*/true);
  const auto x = test::gaussian(static_cast<size_t>(kCols * n_seq), rng);
  std::vector<float> y(static_cast<size_t>(n_rows * n_seq));
  std::vector<int64_t> run_ends;
  for (int i = 1; i <= n_seq; ++i) run_ends.push_back(i);
  MatmulScratch scratch;
  const MatrixView m = view(type, n_rows, w);
  for (auto _ : state) {
    if (!matmul(m, x.data(), n_seq, y.data(), pool(), {.kind = kind, .run_ends = run_ends, .scratch = &scratch}))
      state.SkipWithError("matmul failed");
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n_seq), benchmark::Counter::kIsRate);
}

void bench_prefill(benchmark::State& state, TensorType type, MatmulKind kind) {
  constexpr int64_t kTokens = 64, kRows = 4096;
  std::mt19937 rng(2);
  const auto w = test::make_rows(type, kRows, kCols, rng, /*random_bytes=*/true);
  const auto x = test::gaussian(static_cast<size_t>(kTokens * kCols), rng);
  std::vector<float> y(static_cast<size_t>(kTokens * kRows));
  const MatrixView m = view(type, kRows, w);
  for (auto _ : state) {
    if (!matmul(m, x.data(), kTokens, y.data(), pool(), kind)) state.SkipWithError("matmul failed");
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kTokens), benchmark::Counter::kIsRate);
}

void bench_dot(benchmark::State& state, TensorType type, VecDotFn fn) {
  const QuantKernels* k = find_kernels(type);
  const QuantKernels* act = find_kernels(k->vec_dot_type);
  std::mt19937 rng(3);
  const auto w = test::make_rows(type, 1, kCols, rng, true);
  const auto x = test::gaussian(kCols, rng);
  std::vector<uint8_t> a(row_bytes(act->type, kCols));
  act->quantize_row(x.data(), a.data(), kCols);
  for (auto _ : state) benchmark::DoNotOptimize(fn(kCols, w.data(), a.data()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
}

// The multi-token kernels alone, on one thread, with a 64-row weight slice that stays in L2 (the matmul's row
// tasks are such slices): n_act tokens through the per-row multi kernel (`multi/`) or the rows × tokens tile
// (`tile/`). GB/s of weights; tokens × that is the rate a batch of n_act sequences could stream weights at.
void bench_multi_tokens(benchmark::State& state, TensorType type, int n_act, bool tile) {
  constexpr int64_t kRows = 64;
  const QuantKernels* k = find_kernels(type);
  const QuantKernels* act = find_kernels(k->vec_dot_type);
  const VecDotMultiFn multi = best_vec_dot_multi(*k);
  const VecDotTileFn tile_fn = best_vec_dot_tile(*k);
  if (multi == nullptr || (tile && tile_fn == nullptr)) {
    state.SkipWithError("no such kernel on this CPU");
    return;
  }
  std::mt19937 rng(5);
  const size_t w_stride = row_bytes(type, kCols), a_stride = row_bytes(act->type, kCols);
  const auto w = test::make_rows(type, kRows, kCols, rng, true);
  std::vector<uint8_t> a(a_stride * static_cast<size_t>(n_act));
  for (int j = 0; j < n_act; ++j) act->quantize_row(test::gaussian(kCols, rng).data(), a.data() + j * a_stride, kCols);
  float out[kTileRows * kMaxDotRows];
  for (auto _ : state) {
    if (tile) {
      for (int64_t r = 0; r < kRows; r += kTileRows)
        tile_fn(kCols, w.data() + r * w_stride, w_stride, kTileRows, a.data(), a_stride, n_act, out);
    } else {
      for (int64_t r = 0; r < kRows; ++r) multi(kCols, w.data() + r * w_stride, a.data(), a_stride, n_act, out);
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
}

void register_all() {
  for (const QuantKernels* k : all_kernels()) {
    if (k->vec_dot_ref == nullptr) continue;
    const std::string name(type_name(k->type));
    benchmark::RegisterBenchmark(("decode/" + name).c_str(), bench_decode, k->type)->UseRealTime()->MinTime(0.5);
    for (const int n_seq : {1, 2, 4, 8})
      for (const auto& [kind, label] :
           {std::pair{MatmulKind::kDense, "dense"}, std::pair{MatmulKind::kExperts, "expert"}})
        benchmark::RegisterBenchmark(fmt::format("decode_batch/{}/{}/{}", name, label, n_seq).c_str(),
                                     bench_decode_batch, k->type, kind, n_seq)
            ->UseRealTime()
            ->MinTime(0.5);
    benchmark::RegisterBenchmark(("prefill/" + name).c_str(), bench_prefill, k->type, MatmulKind::kDense)
        ->UseRealTime()
        ->MinTime(0.5);
    benchmark::RegisterBenchmark(("prefill_expert/" + name).c_str(), bench_prefill, k->type, MatmulKind::kExperts)
        ->UseRealTime()
        ->MinTime(0.5);
    if (!k->multi_variants.empty())
      for (const int n_act : {2, 3, 4, 8}) {
        benchmark::RegisterBenchmark(fmt::format("multi/{}/{}", name, n_act).c_str(), bench_multi_tokens, k->type,
                                     n_act, false);
        if (!k->tile_variants.empty())
          benchmark::RegisterBenchmark(fmt::format("tile/{}/{}", name, n_act).c_str(), bench_multi_tokens, k->type,
                                       n_act, true);
      }
    benchmark::RegisterBenchmark(("dot/" + name + "/best").c_str(), bench_dot, k->type, best_vec_dot(*k));
    benchmark::RegisterBenchmark(("dot/" + name + "/scalar").c_str(), bench_dot, k->type, k->vec_dot_ref);
  }
}

}  // namespace
}  // namespace sy::kernels

int main(int argc, char** argv) {
  sy::kernels::register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
