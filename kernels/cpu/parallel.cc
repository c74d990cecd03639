#include "parallel.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FT_CPU_RELAX() _mm_pause()
#else
#define FT_CPU_RELAX() std::this_thread::yield()
#endif

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

std::atomic<int> g_spin_us{20000};
// Cleared while the pool has more threads than the process has cores: a spinning thread would then take a core
// from the thread it waits for.
std::atomic<bool> g_spin_allowed{true};

// Spins (pausing) until ready() or until the spin budget has passed; returns ready().
template <class F>
bool spin_until(F ready) {
  const int us = g_spin_allowed.load(std::memory_order_relaxed) ? g_spin_us.load(std::memory_order_relaxed) : 0;
  if (us <= 0) return ready();
  const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  for (int i = 0;; ++i) {
    if (ready()) return true;
    for (int p = 0; p < 16; ++p) FT_CPU_RELAX();
    // The clock is read every 16 rounds only: it costs more than a pause.
    if ((i & 15) == 15 && std::chrono::steady_clock::now() >= end) return ready();
  }
}

// Workers wait for a new generation, the caller runs chunk 0 itself and then waits for the others.
// Both sides spin for a while (set_spin_us, default 20 ms) before sleeping on a condition variable: a
// training step makes hundreds of parallel calls a few microseconds to a few milliseconds apart, and waking a
// sleeping thread costs tens of microseconds (far more on a virtual machine, where an idle vCPU is halted),
// which showed as a late second chunk and the caller waiting on it. Sleeping after the budget keeps an idle
// process from burning a core. The budget was 200 µs until an Intel Xeon host (2 vCPUs) showed the 19m step
// (B = 32) still letting the worker fall asleep about 100 times a step, mostly for 0.2-2 ms, some for 2-20 ms,
// and each wake there cost about 0.6 ms (a cold norm call: 0.36 ms with the worker spinning, 0.95 ms after a
// sleep): 38.5-39.2 windows/s at 200 µs, 42.9-44.1 at 2 ms, 45.0-49.4 at 20 ms (three alternations). 20 ms
// is within what OpenMP runtimes spin by default (libgomp: 300000 pause rounds; Intel's KMP_BLOCKTIME: 200 ms).
//
// Chunks 1.. are claimed, by whichever thread gets there first: a worker when it wakes, or the caller once its
// own chunk is done. So the caller never waits for a worker that has not started (its vCPU halted or taken by
// another tenant of the host): it runs that chunk itself, and waits only for chunks already under way. The
// chunks' bounds do not depend on who runs them, so neither do the results. Measured before this (Zen 5,
// 2 vCPUs, a noisy host, `fairtune profile` of the 19m model, 7 timed steps after its warm-up; counters in a
// scratch build): the caller found chunk 1 not yet started in 13-25 of about 1280 calls per run, and waited
// 7-18 ms in those calls, 1-2 ms a step.
class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const { return nthreads_; }

  void resize(int n) {
    stop();
    nthreads_ = n;
    g_spin_allowed.store(n <= default_threads());
    quit_.store(false);
    // New workers must start at the current generation, or they would replay the last job at once.
    const uint64_t g = generation_.load();
    for (int t = 1; t < n; ++t) workers_.emplace_back([this, g] { loop(g); });
  }

  void run(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
    int chunks = (int)std::min<int64_t>(nthreads_, n);
    if (chunks <= 1 || in_worker) {
      if (n > 0) fn(0, n);
      return;
    }
    uint64_t gen;
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      n_ = n;
      chunks_ = chunks;
      done_.store(0, std::memory_order_relaxed);
      gen = generation_.load(std::memory_order_relaxed) + 1;
      claim_.store(tag(gen) | 1, std::memory_order_relaxed);  // chunk 0 is the caller's
      generation_.store(gen, std::memory_order_release);
    }
    cv_.notify_all();
    in_worker = true;
    fn(0, chunk_end(n, chunks, 0));
    int ran = 0;  // chunks after 0 that the caller ran itself
    for (int c; (c = claim(gen, chunks)) >= 0; ++ran) fn(chunk_end(n, chunks, c - 1), chunk_end(n, chunks, c));
    in_worker = false;
    const int others = chunks - 1 - ran;
    auto finished = [&] { return done_.load(std::memory_order_acquire) == others; };
    if (!spin_until(finished)) {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, finished);
    }
    std::lock_guard<std::mutex> lk(mu_);
    fn_ = nullptr;
  }

 private:
  static int64_t chunk_end(int64_t n, int chunks, int c) { return n * (c + 1) / chunks; }
  // claim_ holds the job's generation (its low 48 bits, above) and the next unclaimed chunk (the low 16 bits;
  // there are at most 256).
  static constexpr uint64_t kGenMask = (uint64_t{1} << 48) - 1;
  static uint64_t tag(uint64_t gen) { return (gen & kGenMask) << 16; }

  // The next chunk of job gen, or -1 when all are claimed or a newer job has started (a worker that woke after
  // its job ended must not claim a chunk of the next one with the old job's function).
  int claim(uint64_t gen, int chunks) {
    uint64_t cur = claim_.load(std::memory_order_relaxed);
    for (;;) {
      if ((cur >> 16) != (gen & kGenMask) || (int)(cur & 0xffff) >= chunks) return -1;
      if (claim_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel, std::memory_order_relaxed))
        return (int)(cur & 0xffff);
    }
  }

  void loop(uint64_t seen) {
    in_worker = true;
    for (;;) {
      auto fresh = [&] {
        return quit_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
      };
      std::unique_lock<std::mutex> lk(mu_, std::defer_lock);
      if (spin_until(fresh)) {
        lk.lock();
      } else {
        lk.lock();
        cv_.wait(lk, fresh);
      }
      // The job's fields are read under the lock: run() only rewrites them under it.
      if (quit_.load()) return;
      seen = generation_.load();
      const auto* fn = fn_;
      const int64_t n = n_;
      const int chunks = chunks_;
      lk.unlock();
      // fn stays valid while this thread holds a claimed chunk: the caller waits for every chunk it did not run.
      for (int c; (c = claim(seen, chunks)) >= 0;) {
        (*fn)(chunk_end(n, chunks, c - 1), chunk_end(n, chunks, c));
        done_.fetch_add(1, std::memory_order_acq_rel);
        // The caller may be asleep: notify under the lock, so the wake cannot fall between its check and wait.
        std::lock_guard<std::mutex> g(mu_);
        done_cv_.notify_one();
      }
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_.store(true);
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
  int chunks_ = 0, nthreads_ = 1;
  std::atomic<int> done_{0};  // chunks finished by workers in the current job
  std::atomic<uint64_t> claim_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> quit_{false};
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

void set_spin_us(int us) { g_spin_us.store(std::max(0, std::min(100000, us)), std::memory_order_relaxed); }
int spin_us() { return g_spin_allowed.load(std::memory_order_relaxed) ? g_spin_us.load(std::memory_order_relaxed) : 0; }

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) { pool().run(n, fn); }

}  // namespace ft
