#include "kernels/matmul/matmul.h"

#include <algorithm>
#include <cstring>

#include "kernels/quant/quant.h"
#include "kernels/simd/cpu_features.h"

namespace sy::kernels {
namespace {

// Rows per task: each task streams a contiguous slice of the weights (16 rows of a 4096-wide Q4_K matrix are
// 37 KiB), small enough that the slice stays in L2 while every group of tokens passes over it, so each
// weight block is loaded from memory once and used for every token.
constexpr int64_t kRowsPerTask = 16;
// A product with one group of tokens (decoding: one token, or one token of each of a few sequences) streams
// each weight once, so tasks are long contiguous runs instead: each task start is a new stream that the
// kernels' prefetch (4 KiB ahead) has not warmed, and each task end prefetches rows another thread computes.
// About this many tasks per thread keeps threads balanced when one starts late.
constexpr int64_t kDecodeTasksPerThread = 4;

// Which kernel a group of converted rows goes through.
enum GroupKernel : int32_t { kGemm, kMulti, kSingle };

struct Kernels {
  VecDotFn dot = nullptr;         // one token (plain order where llama.cpp leaves the matrix unpacked)
  VecDotMultiFn multi = nullptr;  // several tokens of one run; nullptr where every output is one dot
  VecDotMultiFn gemm = nullptr;   // full groups of kGemmTokens tokens of one run, repacked types
  VecDotTileFn tile = nullptr;    // multi's bits for kTileRows rows at once; nullptr: multi row by row
  bool merge_runs = false;        // multi gives every token single-token bits: runs may share calls
};

Kernels pick_kernels(const QuantKernels& k, const MatrixView& w, MatmulKind kind) {
  Kernels out;
  // llama.cpp repacks only matrices whose rows are a multiple of kGemmRows, and never the slices of a 3-D weight.
  const bool stacked = kind == MatmulKind::kStacked || kind == MatmulKind::kStackedPermuted;
  const VecDotFn plain = stacked || w.n_rows % kGemmRows != 0 ? best_vec_dot_plain(k) : nullptr;
  out.dot = plain != nullptr ? plain : best_vec_dot(k);
  // The float types' multi-row kernels are tinyBLAS's order (matmul.h says where llama.cpp uses it).
  const bool is_float = w.type == TensorType::kF32 || w.type == TensorType::kF16;
  // A permuted view blocks tinyBLAS only for F32 weights: F16 ones first convert the activations to a
  // contiguous F16 copy, which tinyBLAS then takes.
  const bool float_per_output = is_float && (kind == MatmulKind::kExperts || w.n_rows % 4 != 0 ||
                                             (kind == MatmulKind::kStackedPermuted && w.type == TensorType::kF32));
  if (plain == nullptr && !float_per_output) out.multi = best_vec_dot_multi(k);
  if (out.multi != nullptr) out.tile = best_vec_dot_tile(k);
  // Repacked types: each full group of kGemmTokens tokens of a dense product in the gemm's order.
  if (kind == MatmulKind::kDense && w.n_rows % kGemmRows == 0) out.gemm = best_vec_dot_gemm(k);
  out.merge_runs = out.multi != nullptr && !is_float && multi_matches_single(w.type);
  return out;
}

// Orders the tokens into groups, each run as it would be alone: its full gemm groups, then multi-token groups
// of at most kMaxDotRows while two or more tokens remain, then one token alone. With merge_runs the tokens
// left after the gemm groups of all runs form the multi-token groups together.
void plan_groups(const Kernels& k, int64_t n_tokens, std::span<const int64_t> run_ends, MatmulScratch& s) {
  s.order.clear();
  s.groups.clear();
  auto add_group = [&](int32_t kernel, int64_t t0, int64_t n) {
    s.groups.push_back({.first = static_cast<int64_t>(s.order.size()), .n = static_cast<int32_t>(n), .kernel = kernel});
    for (int64_t t = t0; t < t0 + n; ++t) s.order.push_back(t);
  };
  auto add_rest = [&](int64_t t, int64_t end, bool may_use_multi) {
    if (k.multi != nullptr && may_use_multi)
      for (; t + 1 < end; t += kMaxDotRows) add_group(kMulti, t, std::min<int64_t>(kMaxDotRows, end - t));
    for (; t < end; ++t) add_group(kSingle, t, 1);
  };
  const int64_t single_run_end[1] = {n_tokens};
  const std::span<const int64_t> ends = run_ends.empty() ? std::span<const int64_t>(single_run_end) : run_ends;
  int64_t begin = 0, n_left = 0;
  for (const int64_t end : ends) {
    int64_t t = begin;
    if (k.gemm != nullptr && end - begin >= kGemmTokens)
      for (; t + kGemmTokens <= end; t += kGemmTokens) add_group(kGemm, t, kGemmTokens);
    if (k.merge_runs)
      n_left += end - t;
    else
      add_rest(t, end, /*may_use_multi=*/end - begin > 1);
    begin = end;
  }
  if (!k.merge_runs) return;
  // Every token left gets single-token bits whichever group it joins: groups of up to kMaxDotRows across runs.
  begin = 0;
  for (const int64_t end : ends) {
    const int64_t n_gemm =
        k.gemm != nullptr && end - begin >= kGemmTokens ? (end - begin) / kGemmTokens * kGemmTokens : 0;
    for (int64_t t = begin + n_gemm; t < end; ++t, --n_left) {
      MatmulScratch::Group* open = s.groups.empty() ? nullptr : &s.groups.back();
      const bool joins = open != nullptr && open->kernel == kMulti && open->n < kMaxDotRows &&
                         open->first + open->n == static_cast<int64_t>(s.order.size());
      if (!joins) {
        if (n_left == 1) {
          add_group(kSingle, t, 1);
          continue;
        }
        s.groups.push_back({.first = static_cast<int64_t>(s.order.size()), .n = 0, .kernel = kMulti});
      }
      s.order.push_back(t);
      ++s.groups.back().n;
    }
    begin = end;
  }
}

}  // namespace

bool multi_matches_single(TensorType type) {
  // Checked for every type by SimdVecDot.MultiTokenKernelsGiveSingleTokenBits: the AVX2 kernels of a type keep one
  // accumulator chain per token in the single-token kernel's order (llama.cpp's vec_dot order). Kernels of
  // different ISAs do not, and some AVX-512 ones are different algorithms for one and for several tokens (Q4_K's
  // decode and prefill loops): claimed only for AVX2, where it was verified bit for bit.
  const QuantKernels* k = find_kernels(type);
  if (k == nullptr || type == TensorType::kF32 || type == TensorType::kF16 || type == TensorType::kBF16) return false;
  const CpuFeatures& cpu = cpu_features();
  const char* multi_isa = nullptr;
  for (const VecDotMultiVariant& v : k->multi_variants)
    if (cpu.supports(v.isa)) {
      multi_isa = v.isa;
      break;
    }
  const char* single_isa = nullptr;
  for (const VecDotVariant& v : k->simd_variants)
    if (cpu.supports(v.isa)) {
      single_isa = v.isa;
      break;
    }
  return multi_isa != nullptr && single_isa != nullptr && std::strcmp(multi_isa, "avx2") == 0 &&
         std::strcmp(single_isa, "avx2") == 0;
}

Status matmul(const MatrixView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
              const MatmulOptions& options) {
  const QuantKernels* k = find_kernels(w.type);
  if (k == nullptr || k->vec_dot_ref == nullptr)
    return fail(ErrorCode::kUnsupported, "matmul: no kernels for tensor type {}", type_name(w.type));
  const QuantKernels* act = find_kernels(k->vec_dot_type);
  SY_ASSERT(act != nullptr && act->quantize_row != nullptr, "every vec_dot_type has a quantiser");
  if (!options.run_ends.empty()) {
    int64_t prev = 0;
    for (const int64_t e : options.run_ends) {
      if (e <= prev) return fail(ErrorCode::kInvalidInput, "matmul: token runs must be non-empty and ascending");
      prev = e;
    }
    if (prev != n_tokens)
      return fail(ErrorCode::kInvalidInput, "matmul: token runs end at {}, not at the {} tokens", prev, n_tokens);
  }
  if (n_tokens <= 0 || w.n_rows <= 0) return {};

  MatmulScratch local;
  MatmulScratch& s = options.scratch != nullptr ? *options.scratch : local;
  const Kernels kern = pick_kernels(*k, w, options.kind);
  plan_groups(kern, n_tokens, options.run_ends, s);

  // Convert every activation row once, in the plan's order.
  const size_t act_row_bytes = row_bytes(k->vec_dot_type, static_cast<uint64_t>(w.n_cols));
  if (s.act.size() < act_row_bytes * static_cast<size_t>(n_tokens))
    s.act.resize(act_row_bytes * static_cast<size_t>(n_tokens));
  uint8_t* const xq = s.act.data();
  const int64_t* const order = s.order.data();
  const QuantizeRowFn quantize = best_quantize_row(*act);
  auto quantize_token = [&](int64_t i, int) {
    quantize(x + order[i] * w.n_cols, xq + static_cast<size_t>(i) * act_row_bytes, w.n_cols);
  };
  if (n_tokens >= 8)
    pool.parallel_for(n_tokens, quantize_token);
  else
    for (int64_t i = 0; i < n_tokens; ++i) quantize_token(i, 0);

  int64_t rows_per_task = kRowsPerTask;
  if (s.groups.size() == 1) {
    const int64_t decode_tasks = kDecodeTasksPerThread * pool.size();
    rows_per_task = std::max(kRowsPerTask, (w.n_rows + decode_tasks - 1) / decode_tasks);
  }
  const int64_t n_tasks = (w.n_rows + rows_per_task - 1) / rows_per_task;
  const std::span<const MatmulScratch::Group> groups = s.groups;
  pool.parallel_for(n_tasks, [&](int64_t task, int) {
    const int64_t r0 = task * rows_per_task;
    const int64_t r1 = std::min(w.n_rows, r0 + rows_per_task);
    // Token groups outside, the task's rows inside: a group's converted activations (at most kMaxDotRows
    // rows) stay in L1 while the task's weight rows pass, and the weight slice stays in L2 for the next group.
    // Activations are the larger stream per weight block (a Q8_K row block is 292 bytes, a Q4_K one 144).
    for (const MatmulScratch::Group& g : groups) {
      const uint8_t* group_act = xq + static_cast<size_t>(g.first) * act_row_bytes;
      const int64_t* tokens = order + g.first;
      if (g.kernel == kSingle) {
        float* yt = y + tokens[0] * w.n_rows;
        for (int64_t r = r0; r < r1; ++r)
          yt[r] = kern.dot(w.n_cols, w.data + static_cast<size_t>(r) * w.row_stride, group_act);
        continue;
      }
      if (g.kernel == kMulti && kern.tile != nullptr) {
        for (int64_t r = r0; r < r1; r += kTileRows) {
          const int n_rows = static_cast<int>(std::min<int64_t>(kTileRows, r1 - r));
          float out[kTileRows * kMaxDotRows];  // [row][token]
          kern.tile(w.n_cols, w.data + static_cast<size_t>(r) * w.row_stride, w.row_stride, n_rows, group_act,
                    act_row_bytes, g.n, out);
          for (int i = 0; i < n_rows; ++i)
            for (int j = 0; j < g.n; ++j) y[tokens[j] * w.n_rows + r + i] = out[i * kMaxDotRows + j];
        }
        continue;
      }
      const VecDotMultiFn fn = g.kernel == kGemm ? kern.gemm : kern.multi;
      for (int64_t r = r0; r < r1; ++r) {
        float out[kMaxDotRows];
        fn(w.n_cols, w.data + static_cast<size_t>(r) * w.row_stride, group_act, act_row_bytes, g.n, out);
        for (int j = 0; j < g.n; ++j) y[tokens[j] * w.n_rows + r] = out[j];
      }
    }
  });
  return {};
}

Status dequantize_row(const MatrixView& w, int64_t row, float* dst) {
  const QuantKernels* k = find_kernels(w.type);
  if (k == nullptr)
    return fail(ErrorCode::kUnsupported, "dequantize: no kernels for tensor type {}", type_name(w.type));
  k->dequantize_row(w.data + static_cast<size_t>(row) * w.row_stride, dst, w.n_cols);
  return {};
}

}  // namespace sy::kernels
