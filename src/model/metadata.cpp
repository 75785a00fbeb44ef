#include "model/metadata.h"

namespace sy::model {

std::string Metadata::full_key(std::string_view key) const { return arch_ + "." + std::string(key); }

const gguf::Value* Metadata::find(std::string_view key) const { return file_.find(full_key(key)); }

bool Metadata::has(std::string_view key) const { return find(key) != nullptr; }

Result<int64_t> Metadata::u32(std::string_view key) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) return fail(ErrorCode::kNotFound, "{}: missing required metadata key {}", file_.source(), full_key(key));
  // Per-layer arrays (allowed by GGUF for some keys) are only accepted when every layer agrees.
  if (const gguf::Array* arr = v->as_array()) {
    std::optional<int64_t> first;
    for (const auto& item : arr->items) {
      auto i = item.as_int();
      if (!i || (first && *first != *i))
        return fail(ErrorCode::kUnsupported, "{}: metadata key {} varies per layer, which is not supported",
                    file_.source(), full_key(key));
      first = i;
    }
    if (!first) return fail(ErrorCode::kInvalidInput, "{}: metadata key {} is an empty array", file_.source(), full_key(key));
    return *first;
  }
  auto i = v->as_int();
  if (!i || *i < 0 || *i > 0xffffffffLL)
    return fail(ErrorCode::kInvalidInput, "{}: metadata key {} must be an unsigned integer, found {}", file_.source(),
                full_key(key), v->to_display());
  return *i;
}

Result<int64_t> Metadata::u32_or(std::string_view key, int64_t fallback) const {
  if (!has(key)) return fallback;
  return u32(key);
}

Result<float> Metadata::f32(std::string_view key) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) return fail(ErrorCode::kNotFound, "{}: missing required metadata key {}", file_.source(), full_key(key));
  auto f = v->as_float();
  if (!f) return fail(ErrorCode::kInvalidInput, "{}: metadata key {} must be a number, found {}", file_.source(),
                      full_key(key), v->to_display());
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
  if (!b) return fail(ErrorCode::kInvalidInput, "{}: metadata key {} must be a bool, found {}", file_.source(),
                      full_key(key), v->to_display());
  return *b;
}

Result<std::string> Metadata::str_or(std::string_view key, std::string fallback) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) return fallback;
  const std::string* s = v->as_string();
  if (s == nullptr) return fail(ErrorCode::kInvalidInput, "{}: metadata key {} must be a string, found {}",
                                file_.source(), full_key(key), v->to_display());
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
