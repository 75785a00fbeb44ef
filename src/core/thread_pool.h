// A fixed set of worker threads shared by matmuls and experts. parallel_for splits a range of task indices
// over the workers and the calling thread, and returns when all are done. Not reentrant: a task must not call
// parallel_for on the same pool. One pool per session; thread-safe only in that one caller drives it.
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
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;  // bumped per parallel_for so workers know there is new work
  int active_workers_ = 0;
  bool stopping_ = false;
  const std::function<void(int64_t, int)>* fn_ = nullptr;
  int64_t n_tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
};

}  // namespace sy
