#include "model/metadata.h"

#include <algorithm>

namespace sy::model {

const gguf::Value* MetadataMap::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

void MetadataMap::set(std::string key, gguf::Value value) {
  for (auto& [k, v] : entries) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

void MetadataMap::erase(std::string_view key) {
  std::erase_if(entries, [&](const auto& kv) { return kv.first == key; });
}

const std::string& Metadata::source() const { return file_ != nullptr ? file_->source() : map_->source; }

std::string Metadata::full_key(std::string_view key) const { return arch_ + "." + std::string(key); }

const gguf::Value* Metadata::find_global(std::string_view key) const {
  return file_ != nullptr ? file_->find(key) : map_->find(key);
}

const gguf::Value* Metadata::find(std::string_view key) const { return find_global(full_key(key)); }

bool Metadata::has_tensor(std::string_view name) const {
  if (file_ != nullptr) return file_->find_tensor(name) != nullptr;
  for (const auto& n : map_->tensor_names)
    if (n == name) return true;
  return false;
}

std::optional<int64_t> Metadata::tensor_dim(std::string_view name, size_t dim) const {
  if (file_ == nullptr || dim >= gguf::kMaxDims) return std::nullopt;
  const gguf::TensorInfo* t = file_->find_tensor(name);
  if (t == nullptr) return std::nullopt;
  return t->ne[dim];
}

std::optional<int64_t> Metadata::tensor_block_count() const {
  if (file_ == nullptr) return std::nullopt;
  int64_t count = 0;
  constexpr std::string_view kPrefix = "blk.";
  for (const gguf::TensorInfo& t : file_->tensors()) {
    std::string_view name = t.name;
    if (!name.starts_with(kPrefix)) continue;
    name.remove_prefix(kPrefix.size());
    int64_t n = 0;
    size_t digits = 0;
    // Tensor names are at most 63 bytes, so at most 59 digits: stop before the count could overflow.
    while (digits < name.size() && digits < 9 && name[digits] >= '0' && name[digits] <= '9')
      n = n * 10 + (name[digits++] - '0');
    if (digits == 0 || digits >= name.size() || name[digits] != '.') continue;
    count = std::max(count, n + 1);
  }
  return count;
}

bool Metadata::has(std::string_view key) const { return find(key) != nullptr; }

Result<int64_t> Metadata::u32(std::string_view key) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) return fail(ErrorCode::kNotFound, "{}: missing required metadata key {}", source(), full_key(key));
  // Per-layer arrays (allowed by GGUF for some keys) are only accepted when every layer agrees.
  if (const gguf::Array* arr = v->as_array()) {
    std::optional<int64_t> first;
    for (size_t k = 0; k < arr->size(); ++k) {
      auto i = arr->at(k).as_int();
      if (!i || (first && *first != *i))
        return fail(ErrorCode::kUnsupported, "{}: metadata key {} varies per layer, which is not supported", source(),
                    full_key(key));
      first = i;
    }
    if (!first) return fail(ErrorCode::kInvalidInput, "{}: metadata key {} is an empty array", source(), full_key(key));
    return *first;
  }
  auto i = v->as_int();
  if (!i || *i < 0 || *i > 0xffffffffLL)
    return fail(ErrorCode::kInvalidInput, "{}: metadata key {} must be an unsigned integer, found {}", source(),
                full_key(key), v->to_display());
  return *i;
}

Result<int64_t> Metadata::u32_or(std::string_view key, int64_t fallback) const {
  if (!has(key)) return fallback;
  return u32(key);
}

Result<float> Metadata::f32(std::string_view key) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) return fail(ErrorCode::kNotFound, "{}: missing required metadata key {}", source(), full_key(key));
  auto f = v->as_float();
  if (!f)
    return fail(ErrorCode::kInvalidInput, "{}: metadata key {} must be a number, found {}", source(), full_key(key),
                v->to_display());
  return static_cast<float>(*f);
}

Result<float> Metadata::f32_or(std::string_view key, float fallback) const {
  if (!has(key)) return fallback;
  return f32(key);
}

Result<bool> Metadata::flag_or(std::string_view key, bool fallback) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) return fallback;
  auto b = v->as_bool();
  if (!b)
    return fail(ErrorCode::kInvalidInput, "{}: metadata key {} must be a bool, found {}", source(), full_key(key),
                v->to_display());
  return *b;
}

Result<std::string> Metadata::str_or(std::string_view key, std::string fallback) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) return fallback;
  const std::string* s = v->as_string();
  if (s == nullptr)
    return fail(ErrorCode::kInvalidInput, "{}: metadata key {} must be a string, found {}", source(), full_key(key),
                v->to_display());
  return *s;
}

Result<std::string> architecture_of(const gguf::File& file) {
  const gguf::Value* v = file.find("general.architecture");
  if (v == nullptr) return fail(ErrorCode::kNotFound, "{}: missing metadata key general.architecture", file.source());
  const std::string* s = v->as_string();
  if (s == nullptr) return fail(ErrorCode::kInvalidInput, "{}: general.architecture must be a string", file.source());
  return *s;
}

}  // namespace sy::model
