#include "moe/trace/trace_format.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace sy::moe::trace {
namespace {

static_assert(std::endian::native == std::endian::little, "the trace format is little-endian");

constexpr uint32_t kFixedHeaderBytes = 48;  // magic, version, header_bytes, record_bytes, 8 × u32
constexpr uint32_t kRecordFixedBytes = 16;  // sync, seq, pos, layer u16, n_chosen u8, n_pred u8
constexpr uint32_t kMaxLayers = 1u << 16;
constexpr uint32_t kMaxPolicyBytes = 1u << 16;
// No model switchyard loads has more experts in a layer (model/hparam_limits.h: kMaxExperts), so no trace it
// writes does; the format's u16 ids would allow 65535, and an analysis sized from a forged count that large
// (an expert × expert matrix) would cost tens of gigabytes.
constexpr uint32_t kMaxExperts = 1u << 14;

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

template <typename T>
T get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

uint32_t align4(uint32_t n) { return (n + 3u) & ~3u; }

}  // namespace

uint32_t TraceHeader::n_expert_max() const {
  uint32_t n = 0;
  for (const TraceLayer& l : layers) n = std::max(n, l.n_expert);
  return n;
}

uint32_t TraceHeader::record_bytes() const {
  uint32_t n = kRecordFixedBytes + slots * 6 + top_n * 6 + pred_slots * 2;
  if ((flags & kFlagHiddenNorm) != 0) n += 4;
  return align4(n);
}

std::vector<uint8_t> encode_header(const TraceHeader& h) {
  std::vector<uint8_t> out(kMagic, kMagic + 8);
  put<uint32_t>(out, kVersion);
  put<uint32_t>(out, 0);  // header_bytes, patched below
  put<uint32_t>(out, h.record_bytes());
  put<uint32_t>(out, h.n_layer);
  put<uint32_t>(out, static_cast<uint32_t>(h.layers.size()));
  put<uint32_t>(out, h.slots);
  put<uint32_t>(out, h.top_n);
  put<uint32_t>(out, h.pred_slots);
  put<uint32_t>(out, h.flags);
  put<uint32_t>(out, static_cast<uint32_t>(h.policy.size()));
  for (const TraceLayer& l : h.layers) {
    put<uint32_t>(out, l.layer);
    put<uint32_t>(out, l.n_expert);
    put<uint32_t>(out, l.native_k);
  }
  out.insert(out.end(), h.policy.begin(), h.policy.end());
  out.resize(align4(static_cast<uint32_t>(out.size())), 0);
  const auto size = static_cast<uint32_t>(out.size());
  std::memcpy(out.data() + 12, &size, 4);
  return out;
}

Result<TraceHeader> decode_header(std::span<const uint8_t> b, size_t& consumed) {
  if (b.size() >= 8 && std::memcmp(b.data(), kMagic, 8) != 0)
    return fail(ErrorCode::kInvalidInput, "trace header: offset 0: not a switchyard trace (magic)");
  if (b.size() < kFixedHeaderBytes)
    return fail(ErrorCode::kInvalidInput, "trace header: file has {} bytes, need at least {}", b.size(),
                kFixedHeaderBytes);
  const auto version = get<uint32_t>(&b[8]);
  if (version != kVersion)
    return fail(ErrorCode::kUnsupported, "trace header: offset 8: version {} (this build reads {})", version, kVersion);
  const auto header_bytes = get<uint32_t>(&b[12]);
  const auto record_bytes = get<uint32_t>(&b[16]);
  TraceHeader h;
  h.n_layer = get<uint32_t>(&b[20]);
  const auto n_moe = get<uint32_t>(&b[24]);
  h.slots = get<uint32_t>(&b[28]);
  h.top_n = get<uint32_t>(&b[32]);
  h.pred_slots = get<uint32_t>(&b[36]);
  h.flags = get<uint32_t>(&b[40]);
  const auto policy_bytes = get<uint32_t>(&b[44]);
  if (h.n_layer > kMaxLayers || n_moe > h.n_layer)
    return fail(ErrorCode::kInvalidInput, "trace header: offset 20: {} MoE layers of {} blocks is not a model", n_moe,
                h.n_layer);
  if (h.slots == 0 || h.slots > kMaxSlots || h.top_n > kNoId || h.pred_slots > kMaxSlots)
    return fail(ErrorCode::kInvalidInput, "trace header: offset 28: slots {}, top_n {}, pred_slots {} out of range",
                h.slots, h.top_n, h.pred_slots);
  if ((h.flags & ~kKnownFlags) != 0)
    return fail(ErrorCode::kUnsupported, "trace header: offset 40: unknown flags {:#x}", h.flags);
  if (policy_bytes > kMaxPolicyBytes)
    return fail(ErrorCode::kInvalidInput, "trace header: offset 44: policy text of {} bytes", policy_bytes);
  const uint64_t need = kFixedHeaderBytes + uint64_t{n_moe} * 12 + policy_bytes;
  if (header_bytes < need || header_bytes > b.size())
    return fail(ErrorCode::kInvalidInput, "trace header: offset 12: header size {} (needs {}, file has {})",
                header_bytes, need, b.size());
  size_t at = kFixedHeaderBytes;
  for (uint32_t i = 0; i < n_moe; ++i, at += 12) {
    const TraceLayer l{get<uint32_t>(&b[at]), get<uint32_t>(&b[at + 4]), get<uint32_t>(&b[at + 8])};
    if (l.layer >= h.n_layer || (!h.layers.empty() && l.layer <= h.layers.back().layer) || l.n_expert == 0 ||
        l.n_expert > kMaxExperts || l.native_k == 0 || l.native_k > l.n_expert)
      return fail(ErrorCode::kInvalidInput,
                  "trace header: offset {}: MoE layer entry {} (block {}, {} experts, k {}) is invalid (1..{} experts, "
                  "k 1..experts)",
                  at, i, l.layer, l.n_expert, l.native_k, kMaxExperts);
    h.layers.push_back(l);
  }
  h.policy.assign(reinterpret_cast<const char*>(&b[at]), policy_bytes);
  if (record_bytes != h.record_bytes())
    return fail(ErrorCode::kInvalidInput, "trace header: offset 16: record size {} does not match the shape ({})",
                record_bytes, h.record_bytes());
  consumed = header_bytes;
  return h;
}

void encode_record(const TraceHeader& h, const TraceRecord& r, uint8_t* out) {
  std::memset(out, 0, h.record_bytes());
  auto put_at = [&out](size_t at, auto v) { std::memcpy(out + at, &v, sizeof(v)); };
  const uint32_t n_chosen = std::min<uint32_t>(h.slots, static_cast<uint32_t>(r.ids.size()));
  const uint32_t n_pred = std::min<uint32_t>(h.pred_slots, static_cast<uint32_t>(r.pred.size()));
  put_at(0, kRecordSync);
  put_at(4, r.seq);
  put_at(8, r.pos);
  put_at(12, r.layer);
  put_at(14, static_cast<uint8_t>(n_chosen));
  put_at(15, static_cast<uint8_t>(n_pred));
  size_t at = kRecordFixedBytes;
  for (uint32_t j = 0; j < h.slots; ++j, at += 2) put_at(at, j < n_chosen ? static_cast<uint16_t>(r.ids[j]) : kNoId);
  for (uint32_t j = 0; j < h.slots; ++j, at += 4) put_at(at, j < n_chosen ? r.weights[j] : 0.0f);
  for (uint32_t j = 0; j < h.top_n; ++j, at += 2)
    put_at(at, j < r.top_ids.size() ? static_cast<uint16_t>(r.top_ids[j]) : kNoId);
  for (uint32_t j = 0; j < h.top_n; ++j, at += 4) put_at(at, j < r.top_probs.size() ? r.top_probs[j] : 0.0f);
  if ((h.flags & kFlagHiddenNorm) != 0) {
    put_at(at, r.hidden_norm);
    at += 4;
  }
  for (uint32_t j = 0; j < h.pred_slots; ++j, at += 2)
    put_at(at, j < n_pred ? static_cast<uint16_t>(r.pred[j]) : kNoId);
}

Result<TraceRecord> decode_record(const TraceHeader& h, std::span<const uint8_t> b, uint64_t where) {
  if (b.size() < h.record_bytes()) return fail(ErrorCode::kInvalidInput, "trace record at offset {}: cut short", where);
  if (get<uint32_t>(&b[0]) != kRecordSync)
    return fail(ErrorCode::kInvalidInput, "trace record at offset {}: no record sync word (corrupt file)", where);
  TraceRecord r;
  r.seq = get<uint32_t>(&b[4]);
  r.pos = get<uint32_t>(&b[8]);
  r.layer = get<uint16_t>(&b[12]);
  const uint32_t n_chosen = b[14], n_pred = b[15];
  const TraceLayer* layer = nullptr;
  for (const TraceLayer& l : h.layers)
    if (l.layer == r.layer) layer = &l;
  if (layer == nullptr)
    return fail(ErrorCode::kInvalidInput, "trace record at offset {}: layer {} is not an MoE layer of the header",
                where, r.layer);
  if (n_chosen > h.slots || n_pred > h.pred_slots)
    return fail(ErrorCode::kInvalidInput, "trace record at offset {}: {} experts in {} slots", where, n_chosen,
                h.slots);
  auto id_at = [&](size_t at) -> Result<int32_t> {
    const auto id = get<uint16_t>(&b[at]);
    if (id >= layer->n_expert)
      return fail(ErrorCode::kInvalidInput, "trace record at offset {}: expert {} of layer {} (has {})", where + at, id,
                  r.layer, layer->n_expert);
    return static_cast<int32_t>(id);
  };
  size_t at = kRecordFixedBytes;
  for (uint32_t j = 0; j < n_chosen; ++j) {
    auto id = id_at(at + 2 * j);
    if (!id) return tl::unexpected(id.error());
    r.ids.push_back(*id);
  }
  at += 2 * h.slots;
  for (uint32_t j = 0; j < n_chosen; ++j) r.weights.push_back(get<float>(&b[at + 4 * j]));
  at += 4 * h.slots;
  for (uint32_t j = 0; j < h.top_n; ++j) {
    if (get<uint16_t>(&b[at + 2 * j]) == kNoId) break;
    auto id = id_at(at + 2 * j);
    if (!id) return tl::unexpected(id.error());
    r.top_ids.push_back(*id);
    r.top_probs.push_back(get<float>(&b[at + 2 * h.top_n + 4 * j]));
  }
  at += 6 * h.top_n;
  if ((h.flags & kFlagHiddenNorm) != 0) {
    r.hidden_norm = get<float>(&b[at]);
    at += 4;
  }
  for (uint32_t j = 0; j < n_pred; ++j) {
    auto id = id_at(at + 2 * j);
    if (!id) return tl::unexpected(id.error());
    r.pred.push_back(*id);
  }
  return r;
}

}  // namespace sy::moe::trace
