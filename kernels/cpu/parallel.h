// A tiny persistent thread pool for the CPU kernels. Threads are created once (creating them per call
// would cost more than a small kernel) and default to the number of cores the process may use.
#pragma once
#include <atomic>
#include <cstdint>
#include <algorithm>
#include <functional>
#include <memory>

namespace ft {

int num_threads();
// 1 ≤ n ≤ 256; takes effect for the next parallel_for.
void set_num_threads(int n);

// How long (microseconds, 0 to 100000; default 20000) an idle worker, and a caller waiting for its workers, spin
// before sleeping. 0: sleep at once (useful when many processes share the cores). No thread spins while the
// pool has more threads than the process has cores; spin_us() then reports 0.
void set_spin_us(int us);
int spin_us();

// Splits [0, n) into contiguous chunks, one per thread, and calls fn(begin, end) on each; returns when all
// chunks are done. A chunk that no worker has started by the time the caller finishes its own runs on the
// caller. Nested calls from inside fn run serially on the calling thread.
void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

// Runs body(t) for every t in [0, count), the pool's threads claiming indices from a shared counter (dynamic
// scheduling: on a shared machine one core is often slower than the other, and a static split would leave the
// faster one idle at the end). With serial, one thread or count <= 1: in order on the calling thread.
template <class F>
void parallel_dynamic(int64_t count, bool serial, F body) {
  if (serial || count <= 1 || num_threads() <= 1) {
    for (int64_t t = 0; t < count; ++t) body(t);
    return;
  }
  std::atomic<int64_t> next{0};
  parallel_for(num_threads(), [&](int64_t, int64_t) {
    for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < count;) body(t);
  });
}

// Like parallel_dynamic, but each thread first works through its own contiguous share of [0, count) in order,
// and only then takes indices from the far end of the other shares. Share w is [lo(w), lo(w + 1)) for w < T,
// with lo(0) = 0 and lo(T) = count, run by the thread running chunk w.
// For loops whose consecutive indices share data that the first thread to need it prepares (the GEMM's tiles
// of one row block share packed A panels): a thread then mostly consumes what it packed itself, from its own
// cache, where the shared counter made the two threads alternate through every row block. The stealing keeps
// the dynamic balance at the end.
template <class F, class Lo>
void parallel_dynamic_shares(int64_t T, bool serial, F body, Lo lo) {
  if (serial || T <= 1) {
    for (int64_t t = 0; t < lo(T); ++t) body(t);
    return;
  }
  // Per share: how many of its indices are claimed (owner and thieves together), and how many thieves took
  // from its end. The owner claims front indices, thieves back ones; claimed <= size keeps them disjoint.
  struct alignas(64) Share {
    std::atomic<int64_t> claimed{0}, stolen{0};
  };
  std::unique_ptr<Share[]> shares(new Share[T]);
  parallel_for(T, [&](int64_t w0, int64_t w1) {
    // Usually one share per call; a nested call (run serially) gets all of them.
    for (int64_t w = w0; w < w1; ++w) {
      const int64_t size = lo(w + 1) - lo(w);
      for (int64_t mine = 0; shares[w].claimed.fetch_add(1, std::memory_order_relaxed) < size; ++mine) body(lo(w) + mine);
    }
    for (int64_t v = 1; v < T; ++v) {
      const int64_t s = (w0 + v) % T, size = lo(s + 1) - lo(s);
      while (shares[s].claimed.fetch_add(1, std::memory_order_relaxed) < size)
        body(lo(s + 1) - 1 - shares[s].stolen.fetch_add(1, std::memory_order_relaxed));
    }
  });
}

// parallel_dynamic_shares with equal shares, one per thread: share w is [w·count/T, (w+1)·count/T).
template <class F>
void parallel_dynamic_local(int64_t count, bool serial, F body) {
  const int64_t T = std::min<int64_t>(num_threads(), count);
  parallel_dynamic_shares(T, serial, body, [&](int64_t w) { return w * count / T; });
}

}  // namespace ft
