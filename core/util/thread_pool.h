#pragma once
// A small fixed-size thread pool for data-parallel loops (batch tokenization and the like).

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tb {

/// Runs parallel_for loops on a fixed set of worker threads (plus the calling thread).
class ThreadPool {
 public:
  /// Starts `threads` - 1 workers (the caller is the last one); 0 = hardware concurrency.
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Total threads a loop runs on (workers + caller).
  size_t size() const { return workers_.size() + 1; }
  /// Calls body(i) for i in [0, n), spread over all threads; rethrows the first exception.
  void parallel_for(size_t n, const std::function<void(size_t)>& body);

 private:
  void worker_loop();
  void run_items();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* body_ = nullptr;
  size_t n_ = 0, next_ = 0, busy_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace tb
