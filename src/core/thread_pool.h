// A fixed set of worker threads shared by matmuls and experts. parallel_for splits a range of task indices
// over the workers and the calling thread, and returns when all are done. Not reentrant: a task must not call
// parallel_for on the same pool. One pool per session; thread-safe only in that one caller drives it.
//
// Decoding one token calls parallel_for a few hundred times, microseconds apart, so waking sleeping threads
// through the kernel each time would cost as much as the work: workers spin for a short while after each
// job before they block, and the caller spins on the completion count.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sy {

class ThreadPool {
 public:
  // n_threads counts the caller: 1 means no worker threads at all.
  explicit ThreadPool(int n_threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool();

  int size() const { return n_threads_; }

  // Calls fn(task, thread) for every task in [0, n_tasks); `thread` in [0, size()) identifies the executing
  // thread so callers can use per-thread scratch buffers.
  void parallel_for(int64_t n_tasks, const std::function<void(int64_t task, int thread)>& fn);

 private:
  void worker_loop(int thread);
  void run_tasks(int thread);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;  // guards the sleep/wake hand-over only; the job itself is published by generation_
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};  // bumped per parallel_for (release) after the job fields are set
  std::atomic<bool> stopping_{false};
  std::atomic<int> pending_workers_{0};  // workers still running the current job
  const std::function<void(int64_t, int)>* fn_ = nullptr;
  int64_t n_tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
};

}  // namespace sy
