#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace sy {
namespace {

// Every task runs exactly once per call, on a thread index within the pool, and the call returns only after
// all of them: checked over many back-to-back calls (the spinning hand-over) and after the workers have gone
// to sleep (the blocking hand-over).
void expect_every_task_once(ThreadPool& pool, int64_t n_tasks) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n_tasks));
  std::atomic<bool> bad_thread{false};
  pool.parallel_for(n_tasks, [&](int64_t task, int thread) {
    if (thread < 0 || thread >= pool.size()) bad_thread = true;
    hits[static_cast<size_t>(task)].fetch_add(1, std::memory_order_relaxed);
  });
  for (int64_t t = 0; t < n_tasks; ++t) ASSERT_EQ(hits[static_cast<size_t>(t)].load(), 1) << "task " << t;
  EXPECT_FALSE(bad_thread.load());
}

TEST(ThreadPool, BackToBackCallsRunEveryTaskOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (int call = 0; call < 500; ++call) expect_every_task_once(pool, 1 + call % 37);
  }
}

TEST(ThreadPool, WakesWorkersThatWentToSleep) {
  ThreadPool pool(3);
  for (int round = 0; round < 3; ++round) {
    // Longer than the workers' spinning phase, so they block on the condition variable.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    expect_every_task_once(pool, 64);
  }
}

TEST(ThreadPool, WorkersShareTheTasks) {
  ThreadPool pool(2);
  std::atomic<int> on_worker{0};
  pool.parallel_for(64, [&](int64_t, int thread) {
    if (thread != 0) on_worker.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // so the caller cannot take all 64 alone
  });
  EXPECT_GT(on_worker.load(), 0);
}

TEST(ThreadPool, DestroysIdleAndBusyPools) {
  { ThreadPool idle(4); }
  {
    ThreadPool used(4);
    expect_every_task_once(used, 100);
  }
}

}  // namespace
}  // namespace sy
