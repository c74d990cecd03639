// A tiny persistent thread pool for the CPU kernels. Threads are created once (creating them per call
// would cost more than a small kernel) and default to the number of cores the process may use.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>

namespace ft {

int num_threads();
// 1 ≤ n ≤ 256; takes effect for the next parallel_for.
void set_num_threads(int n);

// How long (microseconds, 0 to 100000; default 200) an idle worker, and a caller waiting for its workers, spin
// before sleeping. 0: sleep at once (useful when many processes share the cores). No thread spins while the
// pool has more threads than the process has cores; spin_us() then reports 0.
void set_spin_us(int us);
int spin_us();

// Splits [0, n) into contiguous chunks, one per thread, and calls fn(begin, end) on each; returns when all
// chunks are done. Nested calls from inside fn run serially on the calling thread.
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

}  // namespace ft
