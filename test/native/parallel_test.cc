// Stress harness of the CPU thread pool (kernels/cpu/parallel.cc): every index of every parallel_for is run
// exactly once, in contiguous chunks, whatever the thread count, the spin budget (0: sleep at once; short:
// the budget runs out between calls, so both the spin and the sleep paths are taken; long: workers never
// sleep), the gap between calls and nesting. Built and run by run-parallel-test.sh, also under
// ThreadSanitizer, which turns any data race in the hand-off (job fields, generation, chunk claims, done count)
// into a failure. The caller runs any chunk no worker has claimed by the time its own is done; with workers that
// sleep at once (spin 0) that happens, and the harness checks that it did. Also parallel_dynamic_local (the
// GEMM's tile scheduler): every index once, stealing included.
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "parallel.h"

namespace {

int failures = 0, checks = 0;

void expect(bool ok, const char* what, int threads, int spin, int64_t n) {
  ++checks;
  if (!ok) {
    ++failures;
    if (failures <= 20) std::printf("FAIL %s (threads %d, spin %d us, n %lld)\n", what, threads, spin, (long long)n);
  }
}

void busy_us(int us) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < end) {
  }
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  cpu_set_t set;
  const int cores = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
  const int calls = std::getenv("PARALLEL_TEST_CALLS") ? std::atoi(std::getenv("PARALLEL_TEST_CALLS")) : 400;
  int taken_over = 0;  // calls (2+ threads, spin 0) in which the caller's thread ran more than one chunk
  for (int threads : {1, 2, 3, 4}) {
    ft::set_num_threads(threads);
    for (int spin : {0, 3, 200, 5000}) {
      ft::set_spin_us(spin);
      for (int c = 0; c < calls; ++c) {
        const int64_t n = 1 + (int64_t)(rng() % 9);
        std::vector<std::atomic<int>> hits(n);
        for (auto& h : hits) h.store(0);
        std::atomic<int> bad_chunk{0}, by_caller{0};
        const bool nested = c % 17 == 0;
        const std::thread::id caller = std::this_thread::get_id();
        ft::parallel_for(n, [&](int64_t b, int64_t e) {
          if (!(0 <= b && b < e && e <= n)) bad_chunk.store(1);
          if (std::this_thread::get_id() == caller) by_caller.fetch_add(1);
          for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
          if (nested) {
            // A parallel_for inside a chunk must not wait on the pool it runs in (that would deadlock): it runs
            // on the calling thread and still covers its range once.
            std::atomic<int64_t> inner{0};
            ft::parallel_for(5, [&](int64_t ib, int64_t ie) { inner.fetch_add((ie - ib) * 10 + 1); });
            const int64_t v = inner.load();
            if (v < 51 || v > 55) bad_chunk.store(2);
          }
          if ((b + c) % 3 == 0) busy_us((int)((b * 7 + c) % 4));  // uneven chunks
        });
        bool once = true;
        for (auto& h : hits) once = once && h.load() == 1;
        expect(once, "every index exactly once", threads, spin, n);
        if (threads > 1 && spin == 0 && by_caller.load() > 1) ++taken_over;
        expect(bad_chunk.load() == 0, bad_chunk.load() == 2 ? "nested call covered its range once" : "chunk in range",
               threads, spin, n);
        // Gaps between calls: none, shorter than the short spin, longer than it (the sleep path).
        const int gap = c % 3 == 0 ? 0 : c % 3 == 1 ? 1 : 40;
        busy_us(gap);
      }
      // More threads than cores: nobody spins (a spinning thread would hold the core its partner needs).
      expect(ft::spin_us() == (threads <= cores ? spin : 0), "spin_us reports the budget in force", threads, spin, 0);
    }
  }
  expect(taken_over > 0, "the caller ran chunks that no worker had claimed (spin 0)", 0, 0, 0);
  // parallel_dynamic_local: every index exactly once, whatever the thread count, the index count (fewer
  // indices than threads included) and how uneven the work is (slow indices make the other threads steal from
  // their shares' ends); nested inside a parallel_for it runs on the calling thread and still covers everything.
  ft::set_spin_us(200);
  for (int threads : {1, 2, 3, 4}) {
    ft::set_num_threads(threads);
    for (int c = 0; c < calls; ++c) {
      const int64_t n = (int64_t)(rng() % 41);
      const bool serial = c % 23 == 0, nested = c % 19 == 0;
      std::vector<std::atomic<int>> hits(n);
      for (auto& h : hits) h.store(0);
      std::atomic<int> out_of_range{0};
      auto body = [&](int64_t t) {
        if (t < 0 || t >= n) {
          out_of_range.store(1);
          return;
        }
        hits[t].fetch_add(1);
        if ((t * 5 + c) % 7 == 0) busy_us((int)((t + c) % 30));  // slow indices: the others must steal
      };
      if (nested) {
        ft::parallel_for(2, [&](int64_t b, int64_t) {
          if (b == 0) ft::parallel_dynamic_local(n, serial, body);
        });
      } else {
        ft::parallel_dynamic_local(n, serial, body);
      }
      bool once = true;
      for (auto& h : hits) once = once && h.load() == 1;
      expect(once && out_of_range.load() == 0, "parallel_dynamic_local: every index exactly once", threads, 200, n);
    }
  }
  ft::set_spin_us(-5);
  expect(ft::spin_us() == 0, "negative spin budget clamps to 0", 0, -5, 0);
  std::printf("parallel_test: %d checks, %d failed; the caller took over chunks in %d calls\n", checks, failures,
              taken_over);
  return failures == 0 ? 0 : 1;
}
