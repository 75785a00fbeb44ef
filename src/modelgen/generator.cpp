#include "modelgen/generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/thread_pool.h"
#include "format/gguf_writer.h"
#include "kernels/quant/quant.h"
#include "model/arch_spec.h"

namespace sy::modelgen {
namespace {

using model::Role;

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// xoshiro256**: a fast generator for the values of one row, seeded through splitmix64.
struct Xoshiro256 {
  uint64_t s[4];
  explicit Xoshiro256(uint64_t seed) {
    for (uint64_t& x : s) x = splitmix64(seed);
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

// Approximately N(0,1): four 16-bit uniforms (k + 0.5) / 65536, centred and scaled to unit variance. Integer
// sum, one conversion: sampling must not be the bottleneck next to quantisation.
float approx_normal(uint64_t bits) {
  const auto sum =
      static_cast<int32_t>((bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) + ((bits >> 32) & 0xFFFF) + (bits >> 48));
  constexpr float kScale = 1.7320508075688772f / 65536.0f;  // sqrt(3): the sum of 4 U(0,1) has variance 1/3
  return static_cast<float>(sum - 131070) * kScale;         // 131070 = 4 · 65536/2 - 4 · 0.5
}

enum class Init { kMatrix, kRouter, kEmbedding, kNorm, kBias, kSelectionBias, kSinks };

Init init_of(const model::TensorSpec& s) {
  switch (s.role) {
    case Role::kTokenEmbd: return Init::kEmbedding;
    case Role::kRouter:
    case Role::kShGateInp: return Init::kRouter;
    case Role::kSelectionBias: return Init::kSelectionBias;
    case Role::kAttnSinks: return Init::kSinks;
    case Role::kAttnQBias:
    case Role::kAttnKBias:
    case Role::kAttnVBias:
    case Role::kAttnOutBias:
    case Role::kRouterBias:
    case Role::kExpGateBias:
    case Role::kExpUpBias:
    case Role::kExpDownBias: return Init::kBias;
    default: break;
  }
  return s.placement == model::Placement::kNorm ? Init::kNorm : Init::kMatrix;
}

int64_t row_count(const model::TensorSpec& s) { return s.shape[1] * s.shape[2]; }

}  // namespace

Result<PlannedModel> plan_model(model::MetadataMap metadata, const QuantScheme& scheme) {
  auto config = model::load_config(metadata);
  if (!config) return tl::unexpected(config.error());
  PlannedModel m;
  m.table = model::tensor_table(*config);
  m.types = plan_types(scheme, *config, m.table);
  m.config = std::move(*config);
  m.metadata = std::move(metadata);
  m.file_type = scheme.file_type;
  return m;
}

uint64_t PlannedModel::tensor_bytes() const {
  uint64_t n = 0;
  for (size_t i = 0; i < table.size(); ++i)
    n += row_bytes(types[i], static_cast<uint64_t>(table[i].shape[0])) * static_cast<uint64_t>(row_count(table[i]));
  return n;
}

void fill_row(const model::TensorSpec& spec, size_t tensor_index, int64_t row, uint64_t seed, std::span<float> out) {
  // One independent stream per (seed, tensor, row): decorrelated by hashing the key before use.
  uint64_t key = seed * 0xD1B54A32D192ED03ULL ^ (static_cast<uint64_t>(tensor_index) + 1) * 0x9E3779B97F4A7C15ULL ^
                 (static_cast<uint64_t>(row) + 1) * 0xC2B2AE3D27D4EB4FULL;
  Xoshiro256 rng(splitmix64(key));
  const Init init = init_of(spec);
  const int64_t fan_in = spec.role == Role::kAttnKB ? spec.shape[1] : spec.shape[0];
  float scale = 1.0f, offset = 0.0f;
  switch (init) {
    case Init::kMatrix: scale = 1.0f / std::sqrt(static_cast<float>(fan_in)); break;
    case Init::kRouter: scale = 2.0f / std::sqrt(static_cast<float>(fan_in)); break;
    case Init::kEmbedding: scale = 1.0f; break;
    case Init::kNorm: scale = 0.1f, offset = 1.0f; break;
    case Init::kBias: scale = 0.05f; break;
    case Init::kSelectionBias: scale = 0.1f; break;
    case Init::kSinks: scale = 0.5f; break;
  }
  for (float& v : out) v = offset + scale * approx_normal(rng.next());
}

Status generate_model(const std::filesystem::path& out, const PlannedModel& model, const GenerateOptions& options) {
  SY_ASSERT(model.types.size() == model.table.size(), "the plan has one type per table entry");
  gguf::Writer writer;
  for (const auto& [key, value] : model.metadata.entries) writer.set(key, value);
  writer.set("general.file_type", model.file_type);
  const bool quantized =
      std::any_of(model.types.begin(), model.types.end(), [](TensorType t) { return traits(t).quantized; });
  if (quantized) writer.set("general.quantization_version", uint32_t{2});

  std::vector<const kernels::QuantKernels*> kernels(model.table.size());
  for (size_t i = 0; i < model.table.size(); ++i) {
    const model::TensorSpec& s = model.table[i];
    kernels[i] = kernels::find_kernels(model.types[i]);
    if (kernels[i] == nullptr || kernels[i]->quantize_row == nullptr)
      return fail(ErrorCode::kUnsupported, "{}: no quantiser for type {}", s.name, type_name(model.types[i]));
    std::vector<int64_t> ne(s.shape.begin(), s.shape.begin() + s.n_dims);
    if (auto st = writer.add_tensor({s.name, model.types[i], std::move(ne)}); !st) return st;
  }

  const uint64_t total = model.tensor_bytes();
  std::error_code ec;
  const auto dir = std::filesystem::absolute(out, ec).parent_path();
  if (auto space = std::filesystem::space(dir, ec); !ec && space.available < total + (64u << 20))
    return fail(ErrorCode::kIo, "{}: needs {:.2f} GB but only {:.2f} GB are free in {}", out.string(), total / 1e9,
                static_cast<double>(space.available) / 1e9, dir.string());
  if (auto st = writer.begin(out); !st) return st;

  const int n_threads = std::max(1, options.n_threads);
  ThreadPool pool(n_threads);
  // Rows are produced in chunks of about kChunkBytes of output, split into tasks across the threads; each
  // thread fills one row of floats at a time in its own scratch and quantises it into the chunk buffer.
  constexpr uint64_t kChunkBytes = 16u << 20;
  std::vector<uint8_t> chunk;
  std::vector<std::vector<float>> scratch(static_cast<size_t>(n_threads));
  const auto start = std::chrono::steady_clock::now();
  Progress progress{.bytes_done = 0, .bytes_total = total, .tensor = 0, .n_tensors = model.table.size(), .seconds = 0};

  for (size_t ti = 0; ti < model.table.size(); ++ti) {
    const model::TensorSpec& s = model.table[ti];
    const int64_t ne0 = s.shape[0], n_rows = row_count(s);
    const uint64_t rb = row_bytes(model.types[ti], static_cast<uint64_t>(ne0));
    const int64_t rows_per_chunk = std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes / rb));
    const kernels::QuantizeRowFn quantize = kernels[ti]->quantize_row;
    for (int64_t r0 = 0; r0 < n_rows; r0 += rows_per_chunk) {
      const int64_t n = std::min(rows_per_chunk, n_rows - r0);
      chunk.resize(static_cast<size_t>(n) * rb);
      const int64_t n_tasks = std::min<int64_t>(n, n_threads * 4);
      pool.parallel_for(n_tasks, [&](int64_t task, int thread) {
        std::vector<float>& row = scratch[static_cast<size_t>(thread)];
        row.resize(static_cast<size_t>(ne0));
        for (int64_t r = task * n / n_tasks; r < (task + 1) * n / n_tasks; ++r) {
          fill_row(s, ti, r0 + r, options.seed, row);
          quantize(row.data(), chunk.data() + static_cast<size_t>(r) * rb, ne0);
        }
      });
      if (auto st = writer.write_tensor_data(chunk); !st) return st;
      progress.bytes_done += chunk.size();
      progress.tensor = ti;
      progress.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (options.on_progress) options.on_progress(progress);
    }
  }
  return writer.finish();
}

}  // namespace sy::modelgen
