// TraceWriter: a routing observer that appends one record per (token, MoE layer) to a trace file without
// stalling the forward pass. The forward thread only encodes records into a block buffer; full blocks go
// through a bounded queue to a writer thread that owns the file. The forward thread waits only if the
// queue is full (the disk is slower than decoding for a long time), which bounds memory.
//
// Thread-safety: on_routing and set_sequence from one thread (the session's); close() from that thread too.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "moe/observer.h"
#include "moe/trace/trace_format.h"

namespace sy::moe {
class NextLayerPredictor;
}

namespace sy::moe::trace {

class TraceWriter final : public RoutingObserver {
 public:
  // Creates (truncates) `path` and writes the header. `predictor`, if given, supplies each record's
  // predicted experts (header.pred_slots of them) and must outlive the writer.
  static Result<std::unique_ptr<TraceWriter>> create(const std::string& path, const TraceHeader& header,
                                                     const NextLayerPredictor* predictor = nullptr);
  ~TraceWriter() override;

  void on_routing(const RoutingEvent& event) override;

  // Records from now on carry this sequence id. Without calls, ids are given in order of appearance, from 0:
  // each sequence of the engine (RoutingEvent::sequence) gets one when it first routes, and a new one whenever
  // it starts again at position 0 (a reset session, a server slot's next request), so the tokens of sequences
  // that share a batch are never mixed in one id.
  void set_sequence(uint32_t seq) {
    seq_ = seq;
    explicit_seq_ = true;
  }

  // Writes what is buffered, stops the thread and closes the file; idempotent. The first write error, if any.
  Status close();
  // Hands the current partial block to the writer thread (e.g. between requests, or when asked to stop).
  void flush();
  uint64_t records() const { return n_records_; }

 private:
  TraceWriter(std::FILE* file, TraceHeader header, const NextLayerPredictor* predictor, std::string path);
  void writer_loop();
  void push_block();

  TraceHeader header_;
  uint32_t record_bytes_;
  const NextLayerPredictor* predictor_;
  std::string path_;
  std::FILE* file_;
  uint32_t seq_ = 0;
  bool explicit_seq_ = false;
  std::unordered_map<int32_t, uint32_t> trace_seq_of_;  // engine sequence -> its current trace id
  uint32_t next_seq_ = 0;
  uint64_t n_records_ = 0;
  TraceRecord scratch_;
  std::vector<float> probs_;
  std::vector<int32_t> order_;
  std::vector<uint8_t> block_;  // records being filled on the forward thread

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::vector<uint8_t>> queue_;  // full blocks for the writer thread
  bool closing_ = false;
  bool closed_ = false;
  Status write_status_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace sy::moe::trace
