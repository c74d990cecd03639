// Machine peak: a register-only loop of independent AVX-512 FMAs (fp32) or AVX512-BF16 dot products
// (vdpbf16ps), run on 1..T threads at once. No memory traffic, so this is the ceiling the GEMMs and the
// training step are measured against. Usage: peak <fp32|bf16> <threads> <seconds>; prints one JSON line.
#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

// 16 independent accumulators cover the FMA latency (4 cycles) times the two FMA ports with room to spare.
#define ACC 16

__attribute__((target("avx512f"), noinline)) static float fp32_loop(long iters) {
  __m512 acc[ACC];
  for (int i = 0; i < ACC; i++) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 16
    for (int i = 0; i < ACC; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < ACC; i++) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx512f,avx512bf16"), noinline)) static float bf16_loop(long iters) {
  __m512 acc[ACC];
  for (int i = 0; i < ACC; i++) acc[i] = _mm512_set1_ps(0.001f * i);
  // Products of 1e-3 · 1e-3 keep the accumulators far from overflow and from denormals.
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 16
    for (int i = 0; i < ACC; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, a);
  }
  __m512 s = acc[0];
  for (int i = 1; i < ACC; i++) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: peak <fp32|bf16> <threads> <seconds>\n");
    return 2;
  }
  const std::string kind = argv[1];
  const int threads = std::atoi(argv[2]);
  const double seconds = std::atof(argv[3]);
  if ((kind != "fp32" && kind != "bf16") || threads < 1 || threads > 256 || !(seconds > 0)) {
    std::fprintf(stderr, "peak: bad arguments (kind fp32|bf16, threads 1..256, seconds > 0)\n");
    return 2;
  }
  if (kind == "bf16" && !__builtin_cpu_supports("avx512bf16")) {
    std::printf("{\"kind\":\"bf16\",\"threads\":%d,\"error\":\"CPU lacks AVX512-BF16\"}\n", threads);
    return 0;
  }
  if (!__builtin_cpu_supports("avx512f")) {
    std::printf("{\"kind\":\"%s\",\"threads\":%d,\"error\":\"CPU lacks AVX-512\"}\n", kind.c_str(), threads);
    return 0;
  }
  // fp32: 16 lanes × 2 flops per FMA. bf16: 32 products + 32 adds per vdpbf16ps.
  const double flops_per_op = kind == "fp32" ? 32.0 : 64.0;
  auto run = [&](long iters) { return kind == "fp32" ? fp32_loop(iters) : bf16_loop(iters); };
  // Calibrate on one thread so that each thread's share lasts about `seconds`.
  long iters = 1 << 16;
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    volatile float sink = run(iters);
    (void)sink;
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dt > 0.05) {
      iters = static_cast<long>(iters * seconds / dt) + 1;
      break;
    }
    iters *= 4;
  }
  double best = 0;
  for (int rep = 0; rep < 3; rep++) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<double> elapsed(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
      pool.emplace_back([&, t] {
        ready++;
        while (!go.load()) {}
        auto t0 = std::chrono::steady_clock::now();
        volatile float sink = run(iters);
        (void)sink;
        elapsed[t] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      });
    }
    while (ready.load() < threads) {}
    go = true;
    for (auto& th : pool) th.join();
    double slowest = 0;
    for (double e : elapsed) slowest = e > slowest ? e : slowest;
    double gflops = threads * static_cast<double>(iters) * ACC * flops_per_op / slowest / 1e9;
    if (gflops > best) best = gflops;
  }
  std::printf("{\"kind\":\"%s\",\"threads\":%d,\"gflops\":%.3f}\n", kind.c_str(), threads, best);
  return 0;
}
