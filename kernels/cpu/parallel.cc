#include "parallel.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace ft {
namespace {

int default_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned h = std::thread::hardware_concurrency();
  return h ? (int)h : 1;
}

thread_local bool in_worker = false;

// Workers sleep on a condition variable and wake on a new generation; the caller runs chunk 0 itself.
class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const { return nthreads_; }

  void resize(int n) {
    stop();
    nthreads_ = n;
    quit_ = false;
    // New workers must start at the current generation, or they would replay the last job at once.
    const uint64_t g = generation_;
    for (int t = 1; t < n; ++t) workers_.emplace_back([this, t, g] { loop(t, g); });
  }

  void run(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
    int chunks = (int)std::min<int64_t>(nthreads_, n);
    if (chunks <= 1 || in_worker) {
      if (n > 0) fn(0, n);
      return;
    }
    std::unique_lock<std::mutex> lk(mu_);
    fn_ = &fn;
    n_ = n;
    chunks_ = chunks;
    pending_ = chunks - 1;
    ++generation_;
    lk.unlock();
    cv_.notify_all();
    in_worker = true;
    fn(0, chunk_end(0));
    in_worker = false;
    lk.lock();
    done_cv_.wait(lk, [this] { return pending_ == 0; });
    fn_ = nullptr;
  }

 private:
  int64_t chunk_begin(int c) const { return n_ * c / chunks_; }
  int64_t chunk_end(int c) const { return n_ * (c + 1) / chunks_; }

  void loop(int t, uint64_t seen) {
    in_worker = true;
    for (;;) {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return quit_ || generation_ != seen; });
      if (quit_) return;
      seen = generation_;
      if (t >= chunks_) continue;
      const auto* fn = fn_;
      int64_t b = chunk_begin(t), e = chunk_end(t);
      lk.unlock();
      (*fn)(b, e);
      lk.lock();
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int chunks_ = 0, pending_ = 0, nthreads_ = 1;
  uint64_t generation_ = 0;
  bool quit_ = false;
};

Pool& pool() {
  static Pool p(default_threads());
  return p;
}

}  // namespace

int num_threads() { return pool().size(); }

void set_num_threads(int n) {
  n = std::max(1, std::min(256, n));
  if (n != pool().size()) pool().resize(n);
}

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) { pool().run(n, fn); }

}  // namespace ft
