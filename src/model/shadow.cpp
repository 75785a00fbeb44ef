#include "model/shadow.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <vector>

#include "core/thread_pool.h"
#include "format/gguf_writer.h"
#include "kernels/quant/quant.h"

namespace sy::model {
namespace {

constexpr std::array<Role, 3> kExpertRoles = {Role::kExpGate, Role::kExpUp, Role::kExpDown};
constexpr uint64_t kFingerprintBytes = 4096;  // of each tensor's data

struct Fnv1a {
  uint64_t h = 14695981039346656037ull;
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  template <typename T>
  void add_value(const T& v) {
    add(&v, sizeof v);
  }
};

uint64_t meta_uint(const gguf::File& f, std::string_view key) {
  const gguf::Value* v = f.find(key);
  const auto i = v != nullptr ? v->as_int() : std::nullopt;
  return i && *i >= 0 ? static_cast<uint64_t>(*i) : 0;
}

std::string meta_string(const gguf::File& f, std::string_view key) {
  const gguf::Value* v = f.find(key);
  const std::string* s = v != nullptr ? v->as_string() : nullptr;
  return s != nullptr ? *s : std::string();
}

// Brings a tensor's pages into memory now (the shadow is meant to be resident: a page fault to the disk in the
// middle of a step would cost what the shadow is there to save). WILLNEED starts the reads, the touch waits.
void make_resident(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto first = reinterpret_cast<uintptr_t>(bytes.data()) / page * page;
  const auto end = reinterpret_cast<uintptr_t>(bytes.data() + bytes.size());
  madvise(reinterpret_cast<void*>(first), end - first, MADV_WILLNEED);  // a hint: its failure changes nothing
  volatile uint8_t sink = 0;
  for (uintptr_t p = first; p < end; p += page)
    sink = sink + *reinterpret_cast<const volatile uint8_t*>(std::max(p, reinterpret_cast<uintptr_t>(bytes.data())));
}

}  // namespace

std::string ShadowSource::describe() const {
  return fmt::format("'{}' ({}, {} layers, {} experts, {} bytes, fingerprint {})", file_name, arch, n_layer, n_expert,
                     file_size, fingerprint);
}

ShadowSource shadow_source(const Model& model) {
  ShadowSource s;
  s.arch = model.config().common.arch;
  s.file_name = model.path().empty() ? model.file().source() : model.path().filename().string();
  s.file_size = model.file().file_size();
  s.n_layer = static_cast<uint64_t>(model.config().common.n_layer);
  for (const moe::LayerExperts& l : model.expert_table())
    s.n_expert = std::max(s.n_expert, static_cast<uint64_t>(l.n_expert()));
  // Names, shapes and a sample of every tensor's bytes: cheap on a 17 GiB file, and two models that differ
  // only in their weights (gen-model seeds) still differ.
  Fnv1a h;
  for (const gguf::TensorInfo& t : model.file().tensors()) {
    h.add(t.name.data(), t.name.size());
    h.add_value(static_cast<uint32_t>(t.type));
    for (const int64_t n : t.ne) h.add_value(n);
    h.add_value(t.offset);
    h.add(t.data.data(), static_cast<size_t>(std::min<uint64_t>(t.data.size(), kFingerprintBytes)));
  }
  s.fingerprint = fmt::format("{:016x}", h.h);
  return s;
}

bool is_shadow_type(TensorType type) {
  return type == TensorType::kQ2_K || type == TensorType::kQ3_K || type == TensorType::kQ4_0;
}

Result<ShadowWriteSummary> write_shadow(const Model& model, const std::filesystem::path& path,
                                        const ShadowWriteOptions& options) {
  if (!is_shadow_type(options.type))
    return fail(ErrorCode::kInvalidInput, "a shadow's type is q2_k, q3_k or q4_0, not {}", type_name(options.type));
  const ShadowSource source = shadow_source(model);
  if (source.n_expert == 0)
    return fail(ErrorCode::kInvalidInput, "{} has no routed experts to shadow", source.file_name);

  gguf::Writer w;
  w.set("general.architecture", std::string(kShadowArch));
  w.set("general.name", fmt::format("low-bit shadow of {}", source.file_name));
  w.set("shadow.type", std::string(type_name(options.type)));
  w.set("shadow.source.architecture", source.arch);
  w.set("shadow.source.file_name", source.file_name);
  w.set("shadow.source.file_size", source.file_size);
  w.set("shadow.source.block_count", source.n_layer);
  w.set("shadow.source.expert_count", source.n_expert);
  w.set("shadow.source.fingerprint", source.fingerprint);

  std::vector<const gguf::TensorInfo*> sources;
  std::vector<TensorType> types;  // of each shadow tensor
  ShadowWriteSummary summary;
  for (size_t il = 0; il < model.expert_table().size(); ++il) {
    if (model.expert_table()[il].n_expert() == 0) continue;
    for (const Role role : kExpertRoles) {
      const gguf::TensorInfo* t = model.weights().get(static_cast<int>(il), role);
      if (t == nullptr) return fail(ErrorCode::kNotFound, "layer {} has experts but no expert tensor", il);
      // Rows that do not fill the type's blocks (K-quants: 256) get q4_0, as llama-quantize falls back.
      TensorType type = options.type;
      if (static_cast<uint64_t>(t->ne[0]) % traits(type).block_elems != 0) {
        type = TensorType::kQ4_0;
        ++summary.n_fallback;
      }
      if (static_cast<uint64_t>(t->ne[0]) % traits(type).block_elems != 0)
        return fail(ErrorCode::kInvalidInput, "{}: rows of {} elements are not a multiple of {}'s block of {}", t->name,
                    t->ne[0], type_name(type), traits(type).block_elems);
      const kernels::QuantKernels* from = kernels::find_kernels(t->type);
      if (from == nullptr || from->dequantize_row == nullptr)
        return fail(ErrorCode::kUnsupported, "{}: no dequantiser for {}", t->name, type_name(t->type));
      if (auto st = w.add_tensor({.name = t->name, .type = type, .ne = {t->ne[0], t->ne[1], t->ne[2]}}); !st)
        return tl::unexpected(st.error());
      sources.push_back(t);
      types.push_back(type);
    }
  }
  summary.n_tensors = sources.size();
  if (auto st = w.begin(path); !st) return tl::unexpected(st.error());

  ThreadPool pool(std::max(1, options.n_threads));
  std::vector<std::vector<float>> rows(static_cast<size_t>(pool.size()));
  std::vector<uint8_t> out;
  for (size_t ti = 0; ti < sources.size(); ++ti) {
    const gguf::TensorInfo& t = *sources[ti];
    const kernels::QuantKernels& from = *kernels::find_kernels(t.type);
    const kernels::QuantKernels& to = *kernels::find_kernels(types[ti]);
    const auto n = static_cast<uint64_t>(t.ne[0]);
    const uint64_t in_row = row_bytes(t.type, n), out_row = row_bytes(types[ti], n);
    const auto rows_per_expert = static_cast<uint64_t>(t.ne[1]);
    out.resize(static_cast<size_t>(out_row * rows_per_expert));
    // One expert at a time: [ne1 rows][ne0] in, the same rows requantised out.
    for (int64_t e = 0; e < t.ne[2]; ++e) {
      const uint8_t* in = t.data.data() + static_cast<uint64_t>(e) * rows_per_expert * in_row;
      pool.parallel_for(static_cast<int64_t>(rows_per_expert), [&](int64_t r, int thread) {
        std::vector<float>& row = rows[static_cast<size_t>(thread)];
        row.resize(static_cast<size_t>(n));
        from.dequantize_row(in + static_cast<uint64_t>(r) * in_row, row.data(), static_cast<int64_t>(n));
        to.quantize_row(row.data(), out.data() + static_cast<uint64_t>(r) * out_row, static_cast<int64_t>(n));
      });
      if (auto st = w.write_tensor_data(out); !st) return tl::unexpected(st.error());
    }
    if (options.on_progress) options.on_progress(ti + 1, sources.size());
  }
  if (auto st = w.finish(); !st) return tl::unexpected(st.error());
  return summary;
}

Result<std::shared_ptr<const Shadow>> open_shadow(const Model& model, const std::filesystem::path& path) {
  auto file = gguf::File::open(path);
  if (!file) return tl::unexpected(file.error());
  const std::string arch = meta_string(*file, "general.architecture");
  if (arch != kShadowArch)
    return fail(ErrorCode::kInvalidInput,
                "{} is not a low-bit shadow (general.architecture is '{}', not '{}'): make one with "
                "`switchyard make-shadow`",
                path.string(), arch, kShadowArch);
  const ShadowSource want = shadow_source(model);
  ShadowSource made;
  made.arch = meta_string(*file, "shadow.source.architecture");
  made.file_name = meta_string(*file, "shadow.source.file_name");
  made.file_size = meta_uint(*file, "shadow.source.file_size");
  made.n_layer = meta_uint(*file, "shadow.source.block_count");
  made.n_expert = meta_uint(*file, "shadow.source.expert_count");
  made.fingerprint = meta_string(*file, "shadow.source.fingerprint");
  if (made.arch != want.arch || made.file_size != want.file_size || made.n_layer != want.n_layer ||
      made.n_expert != want.n_expert || made.fingerprint != want.fingerprint)
    return fail(ErrorCode::kInvalidInput, "{} is the shadow of another model: it was made from {}, the model is {}",
                path.string(), made.describe(), want.describe());

  auto shadow = std::make_shared<Shadow>();
  shadow->file = std::move(*file);
  const gguf::File& f = shadow->file;
  shadow->experts = model.expert_table();  // the model's biases, the shadow's matrices
  bool typed = false;
  for (size_t il = 0; il < shadow->experts.size(); ++il) {
    moe::LayerExperts& l = shadow->experts[il];
    if (l.n_expert() == 0) continue;
    moe::ExpertTensor* parts[] = {&l.gate, &l.up, &l.down};
    for (size_t p = 0; p < kExpertRoles.size(); ++p) {
      const gguf::TensorInfo* m = model.weights().get(static_cast<int>(il), kExpertRoles[p]);
      const gguf::TensorInfo* t = f.find_tensor(m->name);
      if (t == nullptr) return fail(ErrorCode::kNotFound, "{}: the shadow has no tensor {}", path.string(), m->name);
      if (t->n_dims != 3 || t->ne[0] != m->ne[0] || t->ne[1] != m->ne[1] || t->ne[2] != m->ne[2])
        return fail(ErrorCode::kInvalidInput, "{}: tensor {} is {}, the model's is {}", path.string(), t->name,
                    t->shape_string(), m->shape_string());
      const kernels::QuantKernels* k = kernels::find_kernels(t->type);
      if (k == nullptr || k->vec_dot_ref == nullptr)
        return fail(ErrorCode::kUnsupported, "{}: tensor {} has type {}, which switchyard cannot compute with",
                    path.string(), t->name, type_name(t->type));
      *parts[p] = moe::ExpertTensor{.type = t->type,
                                    .n_cols = t->ne[0],
                                    .n_rows = t->ne[1],
                                    .n_expert = t->ne[2],
                                    .data = t->data.data(),
                                    .file_offset = f.data_offset() + t->offset};
      shadow->expert_bytes += t->n_bytes;
      make_resident(t->data);
      if (!typed) shadow->type = t->type;
      typed = true;
    }
  }
  return std::shared_ptr<const Shadow>(std::move(shadow));
}

}  // namespace sy::model
