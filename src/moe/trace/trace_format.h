// The routing trace file (docs/trace-format.md): a header with the model's routing shape, then fixed-size
// records, one per (token, MoE layer). Little-endian. Fixed-size records make a file cut short by a crash or
// Ctrl-C readable up to its last whole record, and each record starts with a sync word so a reader can
// tell a record boundary from garbage.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace sy::moe::trace {

inline constexpr char kMagic[8] = {'S', 'Y', 'T', 'R', 'A', 'C', 'E', '1'};
inline constexpr uint32_t kVersion = 1;
inline constexpr uint32_t kRecordSync = 0x43525953;  // "SYRC"
inline constexpr uint16_t kNoId = 0xFFFF;            // an empty slot
inline constexpr uint32_t kMaxSlots = 255;           // expert slots per record: n_chosen is one byte
inline constexpr uint32_t kFlagHiddenNorm = 1u << 0;
inline constexpr uint32_t kKnownFlags = kFlagHiddenNorm;

struct TraceLayer {
  uint32_t layer = 0;  // block index
  uint32_t n_expert = 0;
  uint32_t native_k = 0;  // the model's own k
};

struct TraceHeader {
  uint32_t n_layer = 0;     // blocks in the model
  uint32_t slots = 0;       // expert slots per record (the most any policy chooses)
  uint32_t top_n = 0;       // router probabilities kept per record (0: none)
  uint32_t pred_slots = 0;  // predicted experts per record (--predict-next; 0: none)
  uint32_t flags = 0;
  std::vector<TraceLayer> layers{};  // the MoE layers, increasing block index
  std::string policy{};              // how routing was configured, for the report (free text)

  uint32_t n_expert_max() const;
  uint32_t record_bytes() const;
};

struct TraceRecord {
  uint32_t seq = 0;  // sequence id
  uint32_t pos = 0;  // position in the sequence
  uint16_t layer = 0;
  std::vector<int32_t> ids{};  // the chosen experts, slot order (no empty slots)
  std::vector<float> weights{};
  std::vector<int32_t> top_ids{};  // top_n router probabilities, most likely first
  std::vector<float> top_probs{};
  float hidden_norm = 0.0f;     // L2 norm of the router's input (kFlagHiddenNorm)
  std::vector<int32_t> pred{};  // experts predicted for this layer from the previous MoE layer
};

std::vector<uint8_t> encode_header(const TraceHeader& header);
// Parses a header from the start of `bytes`; `consumed` is its size. Errors name the field and offset.
Result<TraceHeader> decode_header(std::span<const uint8_t> bytes, size_t& consumed);

// Encodes one record into exactly header.record_bytes() bytes at `out`. Slots beyond the vectors' sizes are
// written empty; longer vectors are cut (the caller sized the header for them).
void encode_record(const TraceHeader& header, const TraceRecord& record, uint8_t* out);
// `where` (file offset) goes into errors.
Result<TraceRecord> decode_record(const TraceHeader& header, std::span<const uint8_t> bytes, uint64_t where);

}  // namespace sy::moe::trace
