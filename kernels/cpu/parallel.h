// A tiny persistent thread pool for the CPU kernels. Threads are created once (creating them per call
// would cost more than a small kernel) and default to the number of cores the process may use.
#pragma once
#include <cstdint>
#include <functional>

namespace ft {

int num_threads();
// 1 ≤ n ≤ 256; takes effect for the next parallel_for.
void set_num_threads(int n);

// Splits [0, n) into contiguous chunks, one per thread, and calls fn(begin, end) on each; returns when all
// chunks are done. Nested calls from inside fn run serially on the calling thread.
void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace ft
