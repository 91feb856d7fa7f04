// A small reusable pool of worker threads for running the program instances of a launch.
//
// Owned by the caller (one per mt::Context). parallelFor runs fn(i) for every i in [0, n) on the
// workers and the calling thread and returns when all calls are done. Concurrent parallelFor calls on
// one pool are serialised. fn must not throw and must not call parallelFor on the same pool.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mt::cpu {

class ThreadPool {
public:
  /// numThreads counts the calling thread; 0 = std::thread::hardware_concurrency().
  explicit ThreadPool(unsigned numThreads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// Number of threads that run work, the caller included.
  unsigned size() const { return unsigned(workers_.size()) + 1; }
  void parallelFor(size_t n, const std::function<void(size_t)> &fn);

private:
  struct Job {
    const std::function<void(size_t)> *fn;
    size_t n;
    std::atomic<size_t> next{0};
  };
  void workerLoop();
  static void drain(Job &job);

  std::vector<std::thread> workers_;
  std::mutex runMutex_; // serialises parallelFor calls
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  Job *job_ = nullptr;
  unsigned active_ = 0;
  uint64_t generation_ = 0;
  bool shutdown_ = false;
};

} // namespace mt::cpu
