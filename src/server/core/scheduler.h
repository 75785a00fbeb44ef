// Continuous batching: one thread drives the engine. Each step runs one Engine::step over one decode token of
// every sequence that is generating plus chunks of the prompts still being evaluated (at most prefill_chunk
// prompt tokens per step over all of them; fewer while some sequence is generating), so requests join and leave
// between steps and a long prompt never stalls the others for more than a chunk. Each sequence's numbers are what it
// would get alone (Engine's guarantee), so batching never changes a result.
//
// Slots: n_slots sequences, each with its KV cache. A finished request leaves its tokens in its slot; a later
// request whose prompt starts with the same tokens (a chat's history) and routes the same way takes that slot
// and evaluates only the rest. Jobs wait in a bounded queue (submit() says when it is full).
//
// Cancellation (a client gone) and deadlines are checked at every step boundary: a cancelled job leaves its slot
// within one step. close() stops admission; stop() finishes every job (kShutdown) and joins the thread.
//
// Thread-safety: submit, close, stop, stats from any thread. The engine belongs to the scheduler's thread from
// construction to stop(); nothing else may use it meanwhile.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/engine.h"
#include "server/core/job.h"
#include "server/core/metrics.h"
#include "tokenizer/tokenizer.h"

namespace sy::server {

struct SchedulerOptions {
  int32_t n_slots = 4;          // sequences decoded together (--parallel)
  int64_t n_ctx = 0;            // per sequence; 0: the model's training context
  size_t max_queue = 64;        // jobs waiting for a slot before submit() refuses
  int64_t prefill_chunk = 256;  // prompt tokens per step, over every sequence still evaluating its prompt
  // The same while some sequence is generating: a step costs about as much as its prompt tokens, so a joining
  // prompt is fed in smaller pieces and the others' next tokens wait for one small chunk, not a whole prompt.
  int64_t prefill_chunk_decoding = 32;
};

class Scheduler {
 public:
  // engine, tokenizer and metrics (may be nullptr) are borrowed and must outlive the scheduler; metrics_row is
  // the model's row in metrics (a composition has one per model).
  Scheduler(runtime::Engine& engine, const tok::Tokenizer& tokenizer, const SchedulerOptions& options, Metrics* metrics,
            size_t metrics_row = 0);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  int64_t n_ctx() const { return n_ctx_; }

  enum class Submit { kAccepted, kQueueFull, kClosed };
  Submit submit(std::shared_ptr<Job> job);

  // No new jobs (submit says kClosed); those queued or running go on to their end.
  void close();
  // Waits until no job is queued or running, at most `limit`. True when idle.
  bool wait_idle(std::chrono::milliseconds limit);
  // Ends every job (queued or running) with kShutdown and joins the thread. Idempotent.
  void stop();

  struct Stats {
    int64_t queued = 0;
    int64_t active = 0;
    int64_t slots = 0;
  };
  Stats stats() const;

 private:
  struct Slot;
  void run();
  void admit_locked();
  void finish_slot(Slot& slot, FinishReason reason, std::string error = {});
  void after_step(Slot& slot);
  void publish_stats_locked();

  runtime::Engine& engine_;
  const tok::Tokenizer& tokenizer_;
  Metrics* metrics_;
  size_t metrics_row_;
  SchedulerOptions options_;
  int64_t n_ctx_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the scheduler: a job arrived, stop
  std::condition_variable idle_cv_;  // wakes wait_idle
  std::deque<std::shared_ptr<Job>> queue_;
  int64_t active_ = 0;  // slots with a job (guarded by mu_)
  bool closed_ = false;
  bool stopping_ = false;
  uint64_t use_clock_ = 0;  // orders slots by last use (least recently used is evicted first)
  std::thread thread_;
};

}  // namespace sy::server
