// The matmul policy (activation conversion, row tasks, token tiles, threads) against one scalar reference dot
// product per output, for every type with a dot product.
#include "kernels/matmul/matmul.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernel_test_util.h"
#include "kernels/quant/quant.h"

namespace sy::kernels {
namespace {

TEST(Matmul, MatchesReferenceDotsForEveryTypeAndShape) {
  ThreadPool pool(3);
  std::mt19937 rng(99);
  for (const QuantKernels* k : all_kernels()) {
    if (k->vec_dot_ref == nullptr) continue;
    const QuantKernels* act = find_kernels(k->vec_dot_type);
    const int64_t n_cols = 2 * std::max<int64_t>(256, traits(k->type).block_elems);
    for (int64_t n_tokens : {1, 3, 37}) {
      const int64_t n_rows = 35;  // not a multiple of the row block
      const auto w = test::make_rows(k->type, n_rows, n_cols, rng, true);
      const auto x = test::gaussian(static_cast<size_t>(n_tokens * n_cols), rng);
      const MatrixView m{.type = k->type,
                         .n_cols = n_cols,
                         .n_rows = n_rows,
                         .data = w.data(),
                         .row_stride = row_bytes(k->type, static_cast<uint64_t>(n_cols))};
      std::vector<float> y(static_cast<size_t>(n_tokens * n_rows), NAN);
      ASSERT_TRUE(matmul(m, x.data(), n_tokens, y.data(), pool));
      std::vector<uint8_t> a(row_bytes(act->type, static_cast<uint64_t>(n_cols)));
      for (int64_t t = 0; t < n_tokens; ++t) {
        act->quantize_row(x.data() + t * n_cols, a.data(), n_cols);
        for (int64_t r = 0; r < n_rows; ++r) {
          const float ref = k->vec_dot_ref(n_cols, w.data() + r * m.row_stride, a.data());
          ASSERT_NEAR(y[t * n_rows + r], ref,
                      test::reorder_tolerance(*k, *act, w.data() + r * m.row_stride, a.data(), n_cols))
              << type_name(k->type) << " token " << t << " row " << r;
        }
      }
    }
  }
}

// One token of each of n sequences (each a run of its own, as a batch of sequences decodes) gets the bits it gets
// multiplied alone, for 1..9 tokens (the multi-token groups hold at most kMaxDotRows), for dense and expert products
// and row counts whose thread tasks end inside a tile of rows.
TEST(Matmul, EachRunGetsTheBitsItGetsAlone) {
  ThreadPool pool(3);
  std::mt19937 rng(31);
  for (const QuantKernels* k : all_kernels()) {
    if (k->vec_dot_ref == nullptr) continue;
    const int64_t n_cols = 3 * std::max<int64_t>(256, traits(k->type).block_elems);
    for (const int64_t n_rows : {8, 296}) {
      const auto w = test::make_rows(k->type, n_rows, n_cols, rng, true);
      const MatrixView m{.type = k->type,
                         .n_cols = n_cols,
                         .n_rows = n_rows,
                         .data = w.data(),
                         .row_stride = row_bytes(k->type, static_cast<uint64_t>(n_cols))};
      for (const MatmulKind kind : {MatmulKind::kDense, MatmulKind::kExperts})
        for (int64_t n_tokens = 1; n_tokens <= 9; ++n_tokens) {
          const auto x = test::gaussian(static_cast<size_t>(n_tokens * n_cols), rng);
          std::vector<int64_t> run_ends;
          for (int64_t t = 1; t <= n_tokens; ++t) run_ends.push_back(t);
          std::vector<float> y(static_cast<size_t>(n_tokens * n_rows), NAN);
          ASSERT_TRUE(matmul(m, x.data(), n_tokens, y.data(), pool, {.kind = kind, .run_ends = run_ends}));
          std::vector<float> alone(static_cast<size_t>(n_rows));
          for (int64_t t = 0; t < n_tokens; ++t) {
            ASSERT_TRUE(matmul(m, x.data() + t * n_cols, 1, alone.data(), pool, kind));
            for (int64_t r = 0; r < n_rows; ++r)
              ASSERT_EQ(std::bit_cast<uint32_t>(y[t * n_rows + r]), std::bit_cast<uint32_t>(alone[r]))
                  << type_name(k->type) << " rows " << n_rows << " token " << t << " of " << n_tokens << " row " << r;
          }
        }
    }
  }
}

TEST(Matmul, RejectsTypesWithoutADotProduct) {
  ThreadPool pool(1);
  const std::vector<uint8_t> w(292, 0);
  std::vector<float> x(256, 1.f), y(1);
  const MatrixView q8k{.type = TensorType::kQ8_K, .n_cols = 256, .n_rows = 1, .data = w.data(), .row_stride = 292};
  EXPECT_FALSE(matmul(q8k, x.data(), 1, y.data(), pool));
  const MatrixView iq{.type = TensorType::kIQ2_XXS, .n_cols = 256, .n_rows = 1, .data = w.data(), .row_stride = 66};
  EXPECT_FALSE(matmul(iq, x.data(), 1, y.data(), pool));
}

TEST(Matmul, DequantizeRowReadsTheRightRow) {
  std::mt19937 rng(4);
  const auto w = test::make_rows(TensorType::kQ4_K, 3, 256, rng, false);
  const MatrixView m{.type = TensorType::kQ4_K, .n_cols = 256, .n_rows = 3, .data = w.data(), .row_stride = 144};
  std::vector<float> got(256), want(256);
  ASSERT_TRUE(dequantize_row(m, 2, got.data()));
  find_kernels(TensorType::kQ4_K)->dequantize_row(w.data() + 288, want.data(), 256);
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace sy::kernels
