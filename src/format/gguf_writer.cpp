#include "format/gguf_writer.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "format/gguf_reader.h"

namespace sy::gguf {

namespace {

bool is_power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

// The reader refuses what this rejects, so a file the writer accepts always reads back.
Status validate_value(const std::string& key, const Value& value, int depth) {
  const Array* array = value.as_array();
  if (array == nullptr) return {};
  if (depth >= kMaxArrayDepth)
    return fail(ErrorCode::kInvalidInput, "gguf writer: metadata '{}': arrays nested deeper than {} levels", key,
                kMaxArrayDepth);
  // Items all have the array's type (Array::push_back refuses others); only nesting is left to check.
  for (const Value& item : array->values())
    if (auto st = validate_value(key, item, depth + 1); !st) return st;
  return {};
}

}  // namespace

Writer::~Writer() {
  // An unfinished write leaves no file under the final name; remove the partial one.
  if (out_) remove_partial();
}

void Writer::remove_partial() {
  out_.reset();
  std::error_code ec;
  std::filesystem::remove(partial_path_, ec);
}

void Writer::set(std::string key, Value value) {
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

Status Writer::add_tensor(TensorDecl decl) {
  if (out_) return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}' declared after begin()", decl.name);
  if (decl.name.empty() || decl.name.size() > kMaxTensorNameLength)
    return fail(ErrorCode::kInvalidInput, "gguf writer: tensor name '{}' must be 1..{} bytes", decl.name,
                kMaxTensorNameLength);
  if (decl.ne.size() > kMaxDims)
    return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}' has {} dimensions (at most {})", decl.name,
                decl.ne.size(), kMaxDims);
  for (const auto& t : tensors_)
    if (t.decl.name == decl.name)
      return fail(ErrorCode::kInvalidInput, "gguf writer: duplicate tensor '{}'", decl.name);
  const TensorTypeTraits* tt = find_tensor_type(static_cast<uint32_t>(decl.type));
  if (tt == nullptr)
    return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}' has unknown type {}", decl.name,
                static_cast<uint32_t>(decl.type));
  // Same limits as the reader: every partial product of the dimensions (zeros counted as 1) fits an int64.
  uint64_t n = 1;
  uint64_t n_nonzero = 1;
  for (int64_t d : decl.ne) {
    if (d < 0) return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}' has a negative dimension", decl.name);
    const auto dim = static_cast<uint64_t>(d);
    if (__builtin_mul_overflow(n_nonzero, std::max<uint64_t>(dim, 1), &n_nonzero) ||
        n_nonzero > static_cast<uint64_t>(INT64_MAX))
      return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}' element count overflows", decl.name);
    n *= dim;
  }
  const int64_t ne0 = decl.ne.empty() ? 1 : decl.ne[0];  // no dimensions: a scalar
  if (ne0 % tt->block_elems != 0)
    return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}': ne[0] = {} is not a multiple of {} ({})",
                decl.name, ne0, tt->block_elems, tt->name);
  Declared d;
  if (__builtin_mul_overflow(n / tt->block_elems, uint64_t{tt->block_bytes}, &d.n_bytes))
    return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}' byte size overflows", decl.name);
  d.decl = std::move(decl);
  tensors_.push_back(std::move(d));
  return {};
}

Status Writer::write_bytes(const void* data, size_t n) {
  if (n == 0) return {};
  if (std::fwrite(data, 1, n, out_.get()) != n)
    return fail(ErrorCode::kIo, "{}: write failed at offset {}: {}", partial_path_.string(), position_,
                std::strerror(errno));
  position_ += n;
  return {};
}

Status Writer::write_string(const std::string& s) {
  const uint64_t len = s.size();
  if (auto st = write_bytes(&len, sizeof(len)); !st) return st;
  return write_bytes(s.data(), s.size());
}

Status Writer::write_value(const Value& value) {
  return std::visit(
      [&](const auto& v) -> Status {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return write_string(v);
        } else if constexpr (std::is_same_v<T, Array>) {
          const auto type = static_cast<uint32_t>(v.elem_type());
          const uint64_t count = v.size();
          if (auto st = write_bytes(&type, 4); !st) return st;
          if (auto st = write_bytes(&count, 8); !st) return st;
          if (v.elem_type() == ValueType::kString || v.elem_type() == ValueType::kArray) {
            for (const auto& item : v.values())
              if (auto st = write_value(item); !st) return st;
            return {};
          }
          // Packed numbers (bools as u8 0/1) are already the file's little-endian bytes.
          const std::span<const uint8_t> bytes = v.packed_bytes();
          return write_bytes(bytes.data(), bytes.size());
        } else if constexpr (std::is_same_v<T, bool>) {
          const uint8_t b = v ? 1 : 0;
          return write_bytes(&b, 1);
        } else {
          return write_bytes(&v, sizeof(v));
        }
      },
      value.data);
}

Status Writer::pad_to_alignment(uint64_t position) {
  static constexpr std::array<uint8_t, 256> kZeros{};
  uint64_t pad = (alignment_ - position % alignment_) % alignment_;
  while (pad > 0) {
    const size_t n = std::min<uint64_t>(pad, kZeros.size());
    if (auto st = write_bytes(kZeros.data(), n); !st) return st;
    pad -= n;
  }
  return {};
}

Status Writer::settle_alignment() {
  const Value* key_value = nullptr;
  for (const auto& [k, v] : metadata_)
    if (k == kAlignmentKey) key_value = &v;
  if (key_value == nullptr) {
    if (!is_power_of_two(alignment_))
      return fail(ErrorCode::kInvalidInput, "gguf writer: alignment {} is not a power of two", alignment_);
    if (alignment_ != kDefaultAlignment) set(std::string(kAlignmentKey), Value(alignment_));
    return {};
  }
  const auto* a = std::get_if<uint32_t>(&key_value->data);
  if (a == nullptr)
    return fail(ErrorCode::kInvalidInput, "gguf writer: metadata '{}' must be a u32, not a {}", kAlignmentKey,
                value_type_name(key_value->type()));
  if (!is_power_of_two(*a))
    return fail(ErrorCode::kInvalidInput, "gguf writer: metadata '{}' = {} is not a power of two", kAlignmentKey, *a);
  if (alignment_ != kDefaultAlignment && alignment_ != *a)
    return fail(ErrorCode::kInvalidInput, "gguf writer: alignment {} disagrees with metadata '{}' = {}", alignment_,
                kAlignmentKey, *a);
  alignment_ = *a;
  return {};
}

Status Writer::validate_metadata() const {
  for (const auto& [key, value] : metadata_) {
    if (key.empty()) return fail(ErrorCode::kInvalidInput, "gguf writer: empty metadata key");
    if (auto st = validate_value(key, value, 0); !st) return st;
  }
  return {};
}

// Tensors lie in declaration order, each starting at a multiple of the alignment.
Status Writer::layout_tensors() {
  uint64_t offset = 0;
  for (auto& t : tensors_) {
    t.offset = offset;
    const uint64_t padded = (t.n_bytes + alignment_ - 1) / alignment_ * alignment_;
    if (padded < t.n_bytes || __builtin_add_overflow(offset, padded, &offset))
      return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}': data section size overflows", t.decl.name);
  }
  return {};
}

Status Writer::begin(const std::filesystem::path& path) {
  if (out_ || !path_.empty())
    return fail(ErrorCode::kInvalidInput, "gguf writer: begin() called twice ({} then {})", path_.string(),
                path.string());
  for (auto st : {settle_alignment(), validate_metadata(), layout_tensors()})
    if (!st) return st;
  path_ = path;
  partial_path_ = path;
  partial_path_ += ".partial";
  FILE* f = std::fopen(partial_path_.c_str(), "wb");
  if (f == nullptr) return fail(ErrorCode::kIo, "{}: cannot create: {}", partial_path_.string(), std::strerror(errno));
  out_.reset(f);
  buffer_.resize(1 << 20);
  std::setvbuf(out_.get(), buffer_.data(), _IOFBF, buffer_.size());

  const uint32_t magic = kMagic;
  const uint32_t version = 3;
  const int64_t n_tensors = static_cast<int64_t>(tensors_.size());
  const int64_t n_kv = static_cast<int64_t>(metadata_.size());
  for (auto st : {write_bytes(&magic, 4), write_bytes(&version, 4), write_bytes(&n_tensors, 8), write_bytes(&n_kv, 8)})
    if (!st) return st;
  for (const auto& [key, value] : metadata_) {
    const auto type = static_cast<uint32_t>(value.type());
    if (auto st = write_string(key); !st) return st;
    if (auto st = write_bytes(&type, 4); !st) return st;
    if (auto st = write_value(value); !st) return st;
  }
  for (const auto& t : tensors_) {
    const auto n_dims = static_cast<uint32_t>(t.decl.ne.size());
    const auto type = static_cast<uint32_t>(t.decl.type);
    if (auto st = write_string(t.decl.name); !st) return st;
    if (auto st = write_bytes(&n_dims, 4); !st) return st;
    for (int64_t d : t.decl.ne)
      if (auto st = write_bytes(&d, 8); !st) return st;
    if (auto st = write_bytes(&type, 4); !st) return st;
    if (auto st = write_bytes(&t.offset, 8); !st) return st;
  }
  if (auto st = pad_to_alignment(position_); !st) return st;
  current_ = 0;
  written_in_current_ = 0;
  // Zero-byte tensors are complete as soon as they are reached.
  while (current_ < tensors_.size() && tensors_[current_].n_bytes == 0) ++current_;
  return {};
}

Status Writer::write_tensor_data(std::span<const uint8_t> bytes) {
  if (!out_) return fail(ErrorCode::kInvalidInput, "gguf writer: write_tensor_data() with no file open");
  while (!bytes.empty()) {
    if (current_ >= tensors_.size())
      return fail(ErrorCode::kInvalidInput, "gguf writer: {}: {} bytes beyond the last tensor", path_.string(),
                  bytes.size());
    const auto& t = tensors_[current_];
    const uint64_t take = std::min<uint64_t>(bytes.size(), t.n_bytes - written_in_current_);
    if (auto st = write_bytes(bytes.data(), take); !st) return st;
    written_in_current_ += take;
    bytes = bytes.subspan(take);
    if (written_in_current_ == t.n_bytes) {
      if (auto st = pad_to_alignment(written_in_current_); !st) return st;
      ++current_;
      written_in_current_ = 0;
      while (current_ < tensors_.size() && tensors_[current_].n_bytes == 0) ++current_;
    }
  }
  return {};
}

Status Writer::finish() {
  if (!out_) return fail(ErrorCode::kInvalidInput, "gguf writer: finish() with no file open");
  if (current_ < tensors_.size())
    return fail(ErrorCode::kInvalidInput, "gguf writer: {}: tensor '{}' has {} of {} bytes written", path_.string(),
                tensors_[current_].decl.name, written_in_current_, tensors_[current_].n_bytes);
  if (std::fflush(out_.get()) != 0) {
    const int err = errno;
    remove_partial();
    return fail(ErrorCode::kIo, "{}: flush failed: {}", partial_path_.string(), std::strerror(err));
  }
  if (std::fclose(out_.release()) != 0) {
    const int err = errno;
    remove_partial();
    return fail(ErrorCode::kIo, "{}: close failed: {}", partial_path_.string(), std::strerror(err));
  }
  std::error_code ec;
  std::filesystem::rename(partial_path_, path_, ec);
  if (ec) {
    remove_partial();
    return fail(ErrorCode::kIo, "{}: cannot rename into place: {}", path_.string(), ec.message());
  }
  return {};
}

}  // namespace sy::gguf
