// A tiny persistent thread pool for the CPU kernels. Threads are created once (creating them per call
// would cost more than a small kernel) and default to the number of cores the process may use.
#pragma once
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

}  // namespace ft
