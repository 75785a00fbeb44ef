// The trace file: header and record round trip, a file cut short reads up to its last whole record, every
// malformed field is an error naming its offset, and the writer (thread + queue) produces what the reader
// reads back.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "moe/trace/trace_reader.h"
#include "moe/trace/trace_writer.h"

namespace sy::moe::trace {
namespace {

TraceHeader sample_header() {
  return TraceHeader{.n_layer = 3,
                     .slots = 3,
                     .top_n = 2,
                     .pred_slots = 2,
                     .flags = kFlagHiddenNorm,
                     .layers = {{1, 4, 2}, {2, 4, 2}},
                     .policy = "1=native,2=top-p:0.5"};
}

std::vector<uint8_t> file_of(const TraceHeader& h, const std::vector<TraceRecord>& records) {
  std::vector<uint8_t> bytes = encode_header(h);
  for (const TraceRecord& r : records) {
    const size_t at = bytes.size();
    bytes.resize(at + h.record_bytes());
    encode_record(h, r, bytes.data() + at);
  }
  return bytes;
}

TEST(TraceFormat, RoundTrip) {
  const TraceHeader h = sample_header();
  const TraceRecord a{.seq = 7,
                      .pos = 3,
                      .layer = 1,
                      .ids = {2, 0},
                      .weights = {0.75f, 0.25f},
                      .top_ids = {2, 0},
                      .top_probs = {0.6f, 0.2f},
                      .hidden_norm = 12.5f,
                      .pred = {}};
  const TraceRecord b{.seq = 7,
                      .pos = 3,
                      .layer = 2,
                      .ids = {3, 1, 0},
                      .weights = {0.5f, 0.3f, 0.1f},
                      .top_ids = {3, 1},
                      .top_probs = {0.5f, 0.3f},
                      .hidden_norm = 1.0f,
                      .pred = {3, 2}};
  auto t = parse_trace(file_of(h, {a, b}));
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->header.policy, h.policy);
  ASSERT_EQ(t->header.layers.size(), 2u);
  EXPECT_EQ(t->header.layers[1].layer, 2u);
  ASSERT_EQ(t->records.size(), 2u);
  EXPECT_EQ(t->records[0].ids, a.ids);
  EXPECT_EQ(t->records[0].weights, a.weights);
  EXPECT_EQ(t->records[0].top_probs, a.top_probs);
  EXPECT_EQ(t->records[0].hidden_norm, 12.5f);
  EXPECT_TRUE(t->records[0].pred.empty());
  EXPECT_EQ(t->records[1].ids, b.ids);
  EXPECT_EQ(t->records[1].pred, b.pred);
  EXPECT_EQ(t->records[1].seq, 7u);
  EXPECT_EQ(t->truncated_bytes, 0u);
  // 16 fixed + 3·6 slots + 2·6 top + 4 norm + 2·2 pred = 54 → 56 aligned
  EXPECT_EQ(h.record_bytes(), 56u);
}

TEST(TraceFormat, TruncatedFileReadsUpToTheLastWholeRecord) {
  const TraceHeader h = sample_header();
  std::vector<uint8_t> bytes = file_of(h, {TraceRecord{.layer = 1, .ids = {0, 1}, .weights = {0.5f, 0.5f}},
                                           TraceRecord{.layer = 2, .ids = {2, 3}, .weights = {0.5f, 0.5f}}});
  bytes.resize(bytes.size() - 5);
  auto t = parse_trace(bytes);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->records.size(), 1u);
  EXPECT_EQ(t->truncated_bytes, h.record_bytes() - 5);
}

TEST(TraceFormat, ErrorsNameTheOffset) {
  const TraceHeader h = sample_header();
  const std::vector<uint8_t> good = file_of(h, {TraceRecord{.layer = 1, .ids = {0}, .weights = {1.0f}}});
  const size_t first_record = encode_header(h).size();
  auto expect_error = [&](std::vector<uint8_t> bytes, const char* text) {
    auto t = parse_trace(bytes);
    ASSERT_FALSE(t);
    EXPECT_NE(t.error().message.find(text), std::string::npos) << t.error().message;
  };
  auto patched = [&](size_t at, std::vector<uint8_t> with) {
    std::vector<uint8_t> b = good;
    std::copy(with.begin(), with.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
    return b;
  };
  expect_error({1, 2, 3}, "need at least 48");
  expect_error(patched(0, {'X'}), "offset 0: not a switchyard trace");
  expect_error(patched(8, {2}), "offset 8: version 2");
  expect_error(patched(16, {99}), "offset 16: record size 99");
  expect_error(patched(40, {0x80}), "offset 40: unknown flags");
  expect_error(patched(48, {5}), "offset 48: MoE layer entry 0 (block 5");
  expect_error(patched(first_record, {0}), fmt::format("offset {}: no record sync", first_record).c_str());
  expect_error(patched(first_record + 12, {9}), "layer 9 is not an MoE layer");
  expect_error(patched(first_record + 16, {4, 0}),
               fmt::format("offset {}: expert 4 of layer 1", first_record + 16).c_str());
  expect_error(patched(first_record + 14, {4}), "4 experts in 3 slots");
}

TEST(TraceWriter, WritesWhatTheReaderReads) {
  const std::string path = (std::filesystem::temp_directory_path() / "sy_trace_writer_test.trace").string();
  TraceHeader h = sample_header();
  h.pred_slots = 0;
  auto w = TraceWriter::create(path, h);
  ASSERT_TRUE(w) << w.error().message;
  // Two tokens through both layers, then a new sequence (position 0 again) with one token; then one top-p
  // decision with an empty slot.
  const RoutingConfig cfg{.gating = Gating::kSoftmax, .n_expert = 4, .n_used = 2};
  const std::vector<float> logits = {0.f, 1.f, 2.f, 3.f, 3.f, 2.f, 1.f, 0.f};
  const std::vector<float> hidden = {3.f, 4.f, 0.f, 1.f};  // norms 5 and 1
  RoutingDecision d{.n_tokens = 2, .k = 2, .ids = {3, 2, 0, 1}, .weights = {.6f, .4f, .7f, .3f}};
  RoutingDecision dp{.n_tokens = 1, .k = 3, .ids = {1, kNoExpert, kNoExpert}, .weights = {.9f, 0.f, 0.f}};
  for (int32_t layer : {1, 2})
    (*w)->on_routing({.layer = layer,
                      .pos0 = 0,
                      .decision = &d,
                      .hidden = hidden.data(),
                      .n_embd = 2,
                      .logits = logits.data(),
                      .config = &cfg});
  (*w)->on_routing({.layer = 1,
                    .pos0 = 0,
                    .decision = &dp,
                    .hidden = hidden.data(),
                    .n_embd = 2,
                    .logits = logits.data(),
                    .config = &cfg});
  ASSERT_TRUE((*w)->close());
  auto t = read_trace(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_EQ(t->records.size(), 5u);
  EXPECT_EQ(t->records[0].ids, (std::vector<int32_t>{3, 2}));
  EXPECT_EQ(t->records[1].pos, 1u);
  EXPECT_EQ(t->records[1].top_ids, (std::vector<int32_t>{0, 1}));
  EXPECT_NEAR(t->records[0].top_probs[0], std::exp(3.0) / (1 + std::exp(1.0) + std::exp(2.0) + std::exp(3.0)), 1e-6);
  EXPECT_FLOAT_EQ(t->records[0].hidden_norm, 5.0f);
  EXPECT_FLOAT_EQ(t->records[1].hidden_norm, 1.0f);
  EXPECT_EQ(t->records[2].layer, 2u);
  EXPECT_EQ(t->records[3].seq, 0u);
  EXPECT_EQ(t->records[4].seq, 1u);  // back at position 0 on the first MoE layer: a new sequence
  EXPECT_EQ(t->records[4].ids, (std::vector<int32_t>{1}));
}

// Sequences that share batches (a server's slots) keep apart: ids follow the engine's sequence, and a sequence
// that starts again at position 0 (its slot's next request) gets a new one.
TEST(TraceWriter, InterleavedSequencesKeepTheirOwnIds) {
  const std::string path = (std::filesystem::temp_directory_path() / "sy_trace_writer_interleaved.trace").string();
  TraceHeader h{.n_layer = 2, .slots = 1, .layers = {{0, 4, 1}, {1, 4, 1}}};
  auto w = TraceWriter::create(path, h);
  ASSERT_TRUE(w);
  const RoutingConfig cfg{.gating = Gating::kSoftmax, .n_expert = 4, .n_used = 1};
  RoutingDecision d{.n_tokens = 1, .k = 1, .ids = {2}, .weights = {1.f}};
  // (engine sequence, position) per step, each through both layers: 7 starts, 3 joins at 0 while 7 is at 5,
  // then 7 restarts at 0 (a new request in its slot) while 3 goes on.
  const std::vector<std::pair<int32_t, int64_t>> steps = {{7, 0}, {7, 5}, {3, 0}, {7, 6}, {3, 1}, {7, 0}, {3, 2}};
  for (const auto& [seq, pos] : steps)
    for (int32_t layer : {0, 1})
      (*w)->on_routing({.layer = layer, .pos0 = pos, .decision = &d, .config = &cfg, .sequence = seq});
  ASSERT_TRUE((*w)->close());
  auto t = read_trace(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_EQ(t->records.size(), 14u);
  const std::vector<uint32_t> want = {0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 1, 1};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(t->records[i].seq, want[i]) << "record " << i;
}

TEST(TraceWriter, ManyBlocksThroughTheQueue) {
  const std::string path = (std::filesystem::temp_directory_path() / "sy_trace_writer_many.trace").string();
  TraceHeader h{.n_layer = 1, .slots = 2, .layers = {{0, 8, 2}}};
  auto w = TraceWriter::create(path, h);
  ASSERT_TRUE(w);
  const RoutingConfig cfg{.gating = Gating::kSoftmax, .n_expert = 8, .n_used = 2};
  RoutingDecision d{.n_tokens = 1, .k = 2, .ids = {1, 2}, .weights = {.5f, .5f}};
  const int n = 200000;  // 200k × 28 bytes: several 1 MiB blocks
  for (int i = 0; i < n; ++i) (*w)->on_routing({.layer = 0, .pos0 = i + 1, .decision = &d, .config = &cfg});
  ASSERT_TRUE((*w)->close());
  auto t = read_trace(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_EQ(t->records.size(), static_cast<size_t>(n));
  EXPECT_EQ(t->records.back().pos, static_cast<uint32_t>(n));
}

// top-p without MAX may choose every expert: on a model of 256 (DeepSeek-V3) that is more slots than a record
// holds, and the writer once wrote a header its own reader refuses (and wrapped n_chosen to 0).
TEST(TraceWriter, RefusesAHeaderTheReaderWouldRefuse) {
  const auto path = std::filesystem::temp_directory_path() / "sy_trace_too_many_slots.trace";
  TraceHeader h = sample_header();
  h.slots = 256;
  auto w = TraceWriter::create(path.string(), h);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("up to 256 experts per token, and a trace record holds at most 255"),
            std::string::npos)
      << w.error().message;
  EXPECT_FALSE(std::filesystem::exists(path));
  h = sample_header();
  h.layers = {{2, 4, 2}, {1, 4, 2}};  // not in increasing block order
  w = TraceWriter::create(path.string(), h);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("MoE layer entry 1"), std::string::npos) << w.error().message;
}

TEST(TraceWriter, UnwritablePathIsAnError) {
  auto w = TraceWriter::create("/nonexistent-dir/x.trace", sample_header());
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("/nonexistent-dir/x.trace"), std::string::npos);
}

}  // namespace
}  // namespace sy::moe::trace
