#include "format/gguf_reader.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace sy::gguf {

std::string TensorInfo::shape_string() const { return shape_string_upto(n_dims); }

std::string TensorInfo::shape_string_upto(uint32_t dims) const {
  std::string s = "[";
  for (uint32_t i = 0; i < dims && i < kMaxDims; ++i) s += fmt::format("{}{}", i ? ", " : "", ne[i]);
  return s + "]";
}

// A bounds-checked cursor over the file bytes. Every read names the field it reads so that an error
// says what was wrong and at which offset.
class Parser {
 public:
  Parser(std::span<const uint8_t> bytes, const std::string& source) : bytes_(bytes), source_(source) {}

  Status parse(File& file);

 private:
  template <typename... Args>
  tl::unexpected<Error> error_at(uint64_t offset, fmt::format_string<Args...> format, Args&&... args) const {
    return fail(ErrorCode::kInvalidInput, "{}: offset {}: {}", source_, offset,
                fmt::format(format, std::forward<Args>(args)...));
  }

  uint64_t remaining() const { return bytes_.size() - pos_; }

  template <typename T>
  Result<T> read(std::string_view field) {
    if (remaining() < sizeof(T))
      return error_at(pos_, "{}: file ends after {} bytes, {} needed", field, remaining(), sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  Result<std::string> read_string(std::string_view field) {
    const uint64_t at = pos_;
    auto len = read<uint64_t>(field);
    if (!len) return tl::unexpected(len.error());
    if (*len > remaining())
      return error_at(at, "{}: string length {} exceeds the {} bytes left in the file", field, *len, remaining());
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), *len);
    pos_ += *len;
    return s;
  }

  Result<Value> read_value(ValueType type, std::string_view field, int depth);
  Result<Array> read_array(std::string_view field, int depth);
  Status read_tensor_info(File& file, uint64_t index);
  Status validate_tensors(File& file);

  std::span<const uint8_t> bytes_;
  const std::string& source_;
  uint64_t pos_ = 0;
};

namespace {

// The smallest number of bytes one element of `type` can occupy: bounds array counts before allocating.
uint64_t min_encoded_size(ValueType type) {
  switch (type) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kBool: return 1;
    case ValueType::kU16:
    case ValueType::kI16: return 2;
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kF32: return 4;
    case ValueType::kU64:
    case ValueType::kI64:
    case ValueType::kF64:
    case ValueType::kString:  // u64 length
      return 8;
    case ValueType::kArray:  // u32 type + u64 count
      return 12;
  }
  return 1;
}

bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_mul_overflow(a, b, out); }
bool checked_add(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_add_overflow(a, b, out); }

}  // namespace

Result<Value> Parser::read_value(ValueType type, std::string_view field, int depth) {
  switch (type) {
    case ValueType::kU8: return read<uint8_t>(field).map([](auto v) { return Value(v); });
    case ValueType::kI8: return read<int8_t>(field).map([](auto v) { return Value(v); });
    case ValueType::kU16: return read<uint16_t>(field).map([](auto v) { return Value(v); });
    case ValueType::kI16: return read<int16_t>(field).map([](auto v) { return Value(v); });
    case ValueType::kU32: return read<uint32_t>(field).map([](auto v) { return Value(v); });
    case ValueType::kI32: return read<int32_t>(field).map([](auto v) { return Value(v); });
    case ValueType::kF32: return read<float>(field).map([](auto v) { return Value(v); });
    case ValueType::kU64: return read<uint64_t>(field).map([](auto v) { return Value(v); });
    case ValueType::kI64: return read<int64_t>(field).map([](auto v) { return Value(v); });
    case ValueType::kF64: return read<double>(field).map([](auto v) { return Value(v); });
    case ValueType::kBool: {
      const uint64_t at = pos_;
      auto b = read<uint8_t>(field);
      if (!b) return tl::unexpected(b.error());
      if (*b > 1) return error_at(at, "{}: bool value {} is neither 0 nor 1", field, *b);
      return Value(*b == 1);
    }
    case ValueType::kString: return read_string(field).map([](std::string s) { return Value(std::move(s)); });
    case ValueType::kArray: return read_array(field, depth).map([](Array a) { return Value(std::move(a)); });
  }
  SY_ASSERT(false, "callers pass only value types checked against kValueTypeCount");
  return Value();
}

Result<Array> Parser::read_array(std::string_view field, int depth) {
  const uint64_t at = pos_;
  if (depth >= kMaxArrayDepth) return error_at(at, "{}: arrays nested deeper than {} levels", field, kMaxArrayDepth);
  auto elem_type = read<uint32_t>(field);
  if (!elem_type) return tl::unexpected(elem_type.error());
  if (*elem_type >= kValueTypeCount) return error_at(at, "{}: unknown array element type {}", field, *elem_type);
  const uint64_t count_at = pos_;
  auto count = read<uint64_t>(field);
  if (!count) return tl::unexpected(count.error());
  const auto type = static_cast<ValueType>(*elem_type);
  // Bound the count by the bytes left before allocating anything: a forged count cannot make us reserve more
  // than the file could describe.
  const uint64_t min_size = min_encoded_size(type);
  if (*count > remaining() / min_size)
    return error_at(count_at, "{}: array of {} {} elements cannot fit in the {} bytes left", field, *count,
                    value_type_name(type), remaining());
  if (type != ValueType::kString && type != ValueType::kArray) {
    // Numbers are fixed-size (min_size is their size): copy them packed, in one piece.
    const uint8_t* items = bytes_.data() + pos_;
    if (type == ValueType::kBool)
      for (uint64_t i = 0; i < *count; ++i)
        if (items[i] > 1) return error_at(pos_ + i, "{}: bool value {} is neither 0 nor 1", field, items[i]);
    pos_ += *count * min_size;
    return Array::from_packed_bytes(type, items, static_cast<size_t>(*count));
  }
  Array array(type);
  array.reserve(static_cast<size_t>(*count));
  for (uint64_t i = 0; i < *count; ++i) {
    auto v = read_value(type, field, depth + 1);
    if (!v) return tl::unexpected(v.error());
    const bool ok = array.push_back(std::move(*v));
    SY_ASSERT(ok, "read_value returns a value of the type it was asked for");
  }
  return array;
}

Status Parser::read_tensor_info(File& file, uint64_t index) {
  TensorInfo info;
  info.info_offset = pos_;
  const std::string where = fmt::format("tensor info #{}", index);
  auto name = read_string(where + " name");
  if (!name) return tl::unexpected(name.error());
  info.name = std::move(*name);
  if (info.name.empty()) return error_at(info.info_offset, "{}: empty tensor name", where);
  if (info.name.size() > kMaxTensorNameLength)
    return error_at(info.info_offset, "{}: tensor name of {} bytes is longer than {}", where, info.name.size(),
                    kMaxTensorNameLength);
  const std::string field = fmt::format("tensor '{}'", info.name);
  const uint64_t dims_at = pos_;
  auto n_dims = read<uint32_t>(field + " n_dims");
  if (!n_dims) return tl::unexpected(n_dims.error());
  // n_dims 0 is a scalar (one element), as llama.cpp reads it; gguf-py writes one for a 0-d array.
  if (*n_dims > kMaxDims) return error_at(dims_at, "{}: n_dims {} is more than {}", field, *n_dims, kMaxDims);
  info.n_dims = *n_dims;
  // Zero-sized dimensions count as 1 in the overflow check: a [0, 2^40, 2^40] tensor is empty, but code that
  // multiplies its other dimensions (row counts, strides) must still not overflow.
  uint64_t n_elements = 1;
  uint64_t n_nonzero = 1;
  for (uint32_t d = 0; d < info.n_dims; ++d) {
    const uint64_t ne_at = pos_;
    auto ne = read<int64_t>(field + fmt::format(" ne[{}]", d));
    if (!ne) return tl::unexpected(ne.error());
    if (*ne < 0) return error_at(ne_at, "{} ne[{}]: dimension is negative ({})", field, d, *ne);
    info.ne[d] = *ne;
    const auto dim = static_cast<uint64_t>(*ne);
    if (!checked_mul(n_nonzero, std::max<uint64_t>(dim, 1), &n_nonzero) ||
        n_nonzero > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return error_at(ne_at, "{} ne[{}]: element count of {} overflows a signed 64-bit count", field, d,
                      info.shape_string_upto(d + 1));
    n_elements *= dim;  // cannot overflow: n_elements <= n_nonzero
  }
  const uint64_t type_at = pos_;
  auto type_id = read<uint32_t>(field + " type");
  if (!type_id) return tl::unexpected(type_id.error());
  const TensorTypeTraits* type = find_tensor_type(*type_id);
  if (type == nullptr) return error_at(type_at, "{}: unknown tensor type {}", field, *type_id);
  info.type = type->type;
  if (info.ne[0] % type->block_elems != 0)
    return error_at(dims_at, "{}: ne[0] = {} is not a multiple of the {} block size {}", field, info.ne[0], type->name,
                    type->block_elems);
  if (!checked_mul(n_elements / type->block_elems, type->block_bytes, &info.n_bytes))
    return error_at(dims_at, "{}: byte size of {} {} elements overflows", field, n_elements, type->name);
  auto offset = read<uint64_t>(field + " offset");
  if (!offset) return tl::unexpected(offset.error());
  info.offset = *offset;
  if (auto it = file.tensor_index_.find(info.name); it != file.tensor_index_.end())
    return error_at(info.info_offset, "{}: duplicate tensor name (tensor info #{} has it too)", field, it->second);
  file.tensor_index_.emplace(info.name, file.tensors_.size());
  file.tensors_.push_back(std::move(info));
  return {};
}

Status Parser::validate_tensors(File& file) {
  // Offsets can only be checked once the data section's start (which depends on all infos) is known.
  const uint64_t data_size = bytes_.size() - file.data_offset_;
  for (auto& t : file.tensors_) {
    const std::string field = fmt::format("tensor '{}'", t.name);
    // Offset field sits after name, n_dims, ne[] and type.
    const uint64_t offset_at = t.info_offset + 8 + t.name.size() + 4 + 8ull * t.n_dims + 4;
    if (t.offset % file.alignment_ != 0)
      return error_at(offset_at, "{}: data offset {} is not a multiple of the alignment {}", field, t.offset,
                      file.alignment_);
    uint64_t end = 0;
    if (!checked_add(t.offset, t.n_bytes, &end) || end > data_size)
      return error_at(offset_at, "{}: data [{}, +{}) lies outside the {} bytes of the data section", field, t.offset,
                      t.n_bytes, data_size);
    t.data = bytes_.subspan(file.data_offset_ + t.offset, t.n_bytes);
  }
  // Two tensors sharing bytes would make writes through one (or eviction of one) corrupt another.
  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(file.tensors_.size());
  for (const auto& t : file.tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  // Compare each with the furthest-reaching tensor before it, not only its neighbour: an empty tensor or a
  // short one in between must not hide an overlap.
  const TensorInfo* furthest = nullptr;
  for (const TensorInfo* cur : by_offset) {
    if (cur->n_bytes == 0) continue;
    if (furthest != nullptr && furthest->offset + furthest->n_bytes > cur->offset)
      return error_at(cur->info_offset, "tensor '{}': data [{}, +{}) overlaps tensor '{}' [{}, +{})", cur->name,
                      cur->offset, cur->n_bytes, furthest->name, furthest->offset, furthest->n_bytes);
    if (furthest == nullptr || cur->offset + cur->n_bytes > furthest->offset + furthest->n_bytes) furthest = cur;
  }
  return {};
}

Status Parser::parse(File& file) {
  auto magic = read<uint32_t>("magic");
  if (!magic) return tl::unexpected(magic.error());
  if (*magic != kMagic) return error_at(0, "magic: not a GGUF file (first bytes are not \"GGUF\")");
  auto version = read<uint32_t>("version");
  if (!version) return tl::unexpected(version.error());
  // Version 2 and 3 share one layout (3 only allowed big-endian files); version 1 had 32-bit counts and lengths.
  if (*version == 1) return error_at(4, "version: GGUF version 1 is not supported (only 2 and 3)");
  if (*version != 2 && *version != 3) {
    if (*version != 0 && (*version & 0xffff) == 0)
      return error_at(4, "version: {} looks byte-swapped (a big-endian file?); only little-endian is supported",
                      *version);
    return error_at(4, "version: unsupported GGUF version {} (only 2 and 3)", *version);
  }
  file.version_ = *version;
  auto n_tensors = read<int64_t>("tensor count");
  if (!n_tensors) return tl::unexpected(n_tensors.error());
  auto n_kv = read<int64_t>("metadata count");
  if (!n_kv) return tl::unexpected(n_kv.error());
  // Each tensor info takes at least 8+1+4+4+8 bytes (a scalar), each key/value at least 8+1+4+1.
  if (*n_tensors < 0 || static_cast<uint64_t>(*n_tensors) > remaining() / 25)
    return error_at(8, "tensor count: {} tensors cannot fit in a file of {} bytes", *n_tensors, bytes_.size());
  if (*n_kv < 0 || static_cast<uint64_t>(*n_kv) > remaining() / 14)
    return error_at(16, "metadata count: {} entries cannot fit in a file of {} bytes", *n_kv, bytes_.size());

  file.metadata_.reserve(static_cast<size_t>(*n_kv));
  uint64_t alignment_at = 0;  // where general.alignment's type field is, for its errors
  for (int64_t i = 0; i < *n_kv; ++i) {
    const uint64_t kv_at = pos_;
    auto key = read_string(fmt::format("metadata key #{}", i));
    if (!key) return tl::unexpected(key.error());
    if (key->empty()) return error_at(kv_at, "metadata key #{}: empty key", i);
    if (file.metadata_index_.count(*key) != 0) return error_at(kv_at, "metadata key '{}': duplicate key", *key);
    const std::string field = fmt::format("metadata '{}'", *key);
    const uint64_t type_at = pos_;
    auto type = read<uint32_t>(field + " type");
    if (!type) return tl::unexpected(type.error());
    if (*type >= kValueTypeCount) return error_at(type_at, "{} type: unknown value type {}", field, *type);
    if (*key == kAlignmentKey) alignment_at = type_at;
    auto value = read_value(static_cast<ValueType>(*type), field, 0);
    if (!value) return tl::unexpected(value.error());
    file.metadata_index_.emplace(*key, file.metadata_.size());
    file.metadata_.emplace_back(std::move(*key), std::move(*value));
  }

  if (const Value* align = file.find(kAlignmentKey)) {
    const auto* a = std::get_if<uint32_t>(&align->data);
    if (a == nullptr)
      return error_at(alignment_at, "metadata '{}': must be a u32, found {}", kAlignmentKey,
                      value_type_name(align->type()));
    if (*a == 0 || (*a & (*a - 1)) != 0)
      return error_at(alignment_at + 4, "metadata '{}': {} is not a power of two", kAlignmentKey, *a);
    file.alignment_ = *a;
  }

  file.tensors_.reserve(static_cast<size_t>(*n_tensors));
  for (int64_t i = 0; i < *n_tensors; ++i) {
    auto st = read_tensor_info(file, static_cast<uint64_t>(i));
    if (!st) return st;
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t pad = (file.alignment_ - pos_ % file.alignment_) % file.alignment_;
  if (file.tensors_.empty()) {
    file.data_offset_ = std::min<uint64_t>(pos_ + pad, bytes_.size());
    return {};
  }
  if (pad > remaining()) return error_at(pos_, "data section: file ends inside the padding before the tensor data");
  file.data_offset_ = pos_ + pad;
  return validate_tensors(file);
}

Result<File> File::parse(std::span<const uint8_t> bytes, std::string source) {
  File file;
  file.bytes_ = bytes;
  file.source_ = std::move(source);
  Parser parser(bytes, file.source_);
  if (auto st = parser.parse(file); !st) return tl::unexpected(st.error());
  return file;
}

Result<File> File::open(const std::filesystem::path& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return tl::unexpected(mapped.error());
  auto mapping = std::make_shared<const MappedFile>(std::move(*mapped));
  auto file = parse(mapping->bytes(), path.string());
  if (!file) return file;
  file->mapping_ = std::move(mapping);
  return file;
}

const Value* File::find(std::string_view key) const {
  auto it = metadata_index_.find(std::string(key));
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace sy::gguf
