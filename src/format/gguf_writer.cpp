#include "format/gguf_writer.h"

#include <cerrno>
#include <cstring>

#include "format/gguf_reader.h"

namespace sy::gguf {

Writer::~Writer() {
  // An unfinished write leaves no file under the final name; remove the partial one.
  if (out_) {
    out_.reset();
    std::error_code ec;
    std::filesystem::remove(partial_path_, ec);
  }
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
  if (decl.ne.empty() || decl.ne.size() > kMaxDims)
    return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}' has {} dimensions (1..{} allowed)", decl.name,
                decl.ne.size(), kMaxDims);
  for (const auto& t : tensors_)
    if (t.decl.name == decl.name)
      return fail(ErrorCode::kInvalidInput, "gguf writer: duplicate tensor '{}'", decl.name);
  const auto& tt = traits(decl.type);
  uint64_t n = 1;
  for (int64_t d : decl.ne) {
    if (d < 0) return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}' has a negative dimension", decl.name);
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
      return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}' element count overflows", decl.name);
  }
  if (decl.ne[0] % tt.block_elems != 0)
    return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}': ne[0] = {} is not a multiple of {} ({})",
                decl.name, decl.ne[0], tt.block_elems, tt.name);
  Declared d;
  d.n_bytes = n / tt.block_elems * tt.block_bytes;
  d.decl = std::move(decl);
  uint64_t offset = 0;
  if (!tensors_.empty()) {
    const auto& prev = tensors_.back();
    offset = prev.offset + (prev.n_bytes + alignment_ - 1) / alignment_ * alignment_;
  }
  d.offset = offset;
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
          const auto type = static_cast<uint32_t>(v.elem_type);
          const uint64_t count = v.items.size();
          if (auto st = write_bytes(&type, 4); !st) return st;
          if (auto st = write_bytes(&count, 8); !st) return st;
          for (const auto& item : v.items) {
            if (item.type() != v.elem_type)
              return fail(ErrorCode::kInvalidInput, "gguf writer: array of {} holds a {}",
                          value_type_name(v.elem_type), value_type_name(item.type()));
            if (auto st = write_value(item); !st) return st;
          }
          return {};
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
  static const std::vector<uint8_t> kZeros(256, 0);
  uint64_t pad = (alignment_ - position % alignment_) % alignment_;
  while (pad > 0) {
    const size_t n = std::min<uint64_t>(pad, kZeros.size());
    if (auto st = write_bytes(kZeros.data(), n); !st) return st;
    pad -= n;
  }
  return {};
}

Status Writer::begin(const std::filesystem::path& path) {
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
    return fail(ErrorCode::kInvalidInput, "gguf writer: alignment {} is not a power of two", alignment_);
  if (alignment_ != kDefaultAlignment) set("general.alignment", Value(alignment_));
  path_ = path;
  partial_path_ = path;
  partial_path_ += ".partial";
  FILE* f = std::fopen(partial_path_.c_str(), "wb");
  if (f == nullptr)
    return fail(ErrorCode::kIo, "{}: cannot create: {}", partial_path_.string(), std::strerror(errno));
  out_.reset(f);
  static thread_local std::vector<char> buffer(1 << 20);
  std::setvbuf(out_.get(), buffer.data(), _IOFBF, buffer.size());

  const uint32_t magic = kMagic;
  const uint32_t version = 3;
  const int64_t n_tensors = static_cast<int64_t>(tensors_.size());
  const int64_t n_kv = static_cast<int64_t>(metadata_.size());
  for (auto st : {write_bytes(&magic, 4), write_bytes(&version, 4), write_bytes(&n_tensors, 8),
                  write_bytes(&n_kv, 8)})
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
  if (!out_) return fail(ErrorCode::kInvalidInput, "gguf writer: write_tensor_data() before begin()");
  while (!bytes.empty()) {
    if (current_ >= tensors_.size())
      return fail(ErrorCode::kInvalidInput, "gguf writer: {} bytes beyond the last tensor", bytes.size());
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
  if (!out_) return fail(ErrorCode::kInvalidInput, "gguf writer: finish() before begin()");
  if (current_ < tensors_.size())
    return fail(ErrorCode::kInvalidInput, "gguf writer: tensor '{}' has {} of {} bytes written",
                tensors_[current_].decl.name, written_in_current_, tensors_[current_].n_bytes);
  if (std::fflush(out_.get()) != 0)
    return fail(ErrorCode::kIo, "{}: flush failed: {}", partial_path_.string(), std::strerror(errno));
  FILE* f = out_.release();
  if (std::fclose(f) != 0)
    return fail(ErrorCode::kIo, "{}: close failed: {}", partial_path_.string(), std::strerror(errno));
  std::error_code ec;
  std::filesystem::rename(partial_path_, path_, ec);
  if (ec) return fail(ErrorCode::kIo, "{}: cannot rename into place: {}", path_.string(), ec.message());
  return {};
}

}  // namespace sy::gguf
