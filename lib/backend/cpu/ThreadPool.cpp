#include "backend/cpu/ThreadPool.h"

namespace mt::cpu {

ThreadPool::ThreadPool(unsigned numThreads) {
  if (numThreads == 0)
    numThreads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 1; i < numThreads; ++i)
    workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutdown_ = true;
  }
  wake_.notify_all();
  for (std::thread &t : workers_)
    t.join();
}

void ThreadPool::drain(Job &job) {
  for (size_t i = job.next.fetch_add(1); i < job.n; i = job.next.fetch_add(1))
    (*job.fn)(i);
}

void ThreadPool::workerLoop() {
  uint64_t seen = 0;
  for (;;) {
    Job *job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return shutdown_ || (job_ && generation_ != seen); });
      if (shutdown_)
        return;
      seen = generation_;
      job = job_;
      ++active_;
    }
    drain(*job);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --active_;
    }
    idle_.notify_all();
  }
}

void ThreadPool::parallelFor(size_t n, const std::function<void(size_t)> &fn) {
  if (n == 0)
    return;
  std::lock_guard<std::mutex> run(runMutex_);
  Job job;
  job.fn = &fn;
  job.n = n;
  if (workers_.empty() || n == 1) {
    drain(job);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &job;
    ++generation_;
  }
  wake_.notify_all();
  drain(job);
  std::unique_lock<std::mutex> lock(mutex_);
  job_ = nullptr; // late wakers find nothing to do
  idle_.wait(lock, [&] { return active_ == 0; });
}

} // namespace mt::cpu
