// Machine peak: a register-only loop of independent fp32 FMAs on the widest vectors the CPU has (AVX-512 zmm,
// else AVX2 ymm), AVX512-BF16 dot products (vdpbf16ps) or AMX bf16 tile products (tdpbf16ps), run on 1..T
// threads at once. No memory traffic in the loop, so this is the ceiling the GEMMs and the training step are
// measured against: the bf16 mode against the peak of the instruction its kernel runs (AMX where the engine's
// bf16 GEMMs use it, else vdpbf16ps).
// Usage: peak <fp32|bf16|amx> <threads> <seconds>; prints one JSON line (fp32 names the vectors it ran on).
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// AVX2 has 16 ymm registers, so 12 accumulators leave room for the two operands without spills; 12 chains still
// cover the FMA latency (4-5 cycles) times the two FMA ports of the AVX2 CPUs (Haswell on, Zen 2/3).
#define ACC_YMM 12

__attribute__((target("avx2,fma"), noinline)) static float fp32_loop_ymm(long iters) {
  __m256 acc[ACC_YMM];
  for (int i = 0; i < ACC_YMM; i++) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < ACC_YMM; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < ACC_YMM; i++) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float r = 0;
  for (float v : lanes) r += v;
  return r;
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

// AMX: four accumulator tiles (tmm0-3, 16 rows of 16 fp32) fed by two A tiles (tmm4-5) and two B tiles (tmm6-7),
// each product 16 × 16 × 32 bf16 multiply-adds; four independent chains cover the tile unit's latency. The
// sources are loaded once from a buffer of small values (the products stay far from overflow).
struct alignas(64) TileConfig {
  unsigned char palette, start_row, reserved[14];
  unsigned short colsb[16];
  unsigned char rows[16];
};

// The OS grants the AMX tile state on request (Linux >= 5.16); without it the first tile instruction faults.
static bool amx_granted() {
  constexpr long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
  return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

__attribute__((target("amx-tile,amx-bf16"), noinline)) static float amx_loop(long iters) {
  TileConfig cfg{};
  cfg.palette = 1;
  for (int t = 0; t < 8; t++) cfg.colsb[t] = 64, cfg.rows[t] = 16;
  _tile_loadconfig(&cfg);
  alignas(64) static thread_local unsigned short src[16 * 32];
  for (auto& v : src) v = 0x3a83;  // bf16 of about 1e-3
  alignas(64) static thread_local float out[16 * 16];
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, src, 64);
  _tile_loadd(5, src, 64);
  _tile_loadd(6, src, 64);
  _tile_loadd(7, src, 64);
  for (long it = 0; it < iters; it++) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, out, 64);
  float s = out[0];
  _tile_stored(3, out, 64);
  s += out[255];
  _tile_release();
  return s;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: peak <fp32|bf16|amx> <threads> <seconds>\n");
    return 2;
  }
  const std::string kind = argv[1];
  const int threads = std::atoi(argv[2]);
  const double seconds = std::atof(argv[3]);
  if ((kind != "fp32" && kind != "bf16" && kind != "amx") || threads < 1 || threads > 256 || !(seconds > 0)) {
    std::fprintf(stderr, "peak: bad arguments (kind fp32|bf16|amx, threads 1..256, seconds > 0)\n");
    return 2;
  }
  if (kind == "bf16" && !__builtin_cpu_supports("avx512bf16")) {
    std::printf("{\"kind\":\"bf16\",\"threads\":%d,\"error\":\"CPU lacks AVX512-BF16\"}\n", threads);
    return 0;
  }
  if (kind == "amx" && !(__builtin_cpu_supports("amx-bf16") && amx_granted())) {
    std::printf("{\"kind\":\"amx\",\"threads\":%d,\"error\":\"CPU lacks AMX-BF16 or the OS denies the tile state\"}\n",
                threads);
    return 0;
  }
  // fp32 runs on the widest FMA the CPU has: the engine's kernels pick the same (kernels/cpu/isa.cc).
  const bool zmm = __builtin_cpu_supports("avx512f");
  if (kind == "fp32" && !zmm && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    std::printf("{\"kind\":\"fp32\",\"threads\":%d,\"error\":\"CPU lacks AVX2 with FMA and AVX-512\"}\n", threads);
    return 0;
  }
  if (kind != "fp32" && !zmm) {
    std::printf("{\"kind\":\"%s\",\"threads\":%d,\"error\":\"CPU lacks AVX-512\"}\n", kind.c_str(), threads);
    return 0;
  }
  // Per loop iteration. fp32: ACC FMAs of 16 lanes × 2 flops (zmm), ACC_YMM of 8 lanes × 2 (ymm). bf16: ACC
  // vdpbf16ps of 32 products + 32 adds. amx: 4 tdpbf16ps of 16 × 16 × 32 products and as many adds.
  const double flops_per_iter =
      kind == "fp32" ? (zmm ? ACC * 32.0 : ACC_YMM * 16.0) : kind == "bf16" ? ACC * 64.0 : 4 * 16384.0;
  auto run = [&](long iters) {
    if (kind == "fp32") return zmm ? fp32_loop(iters) : fp32_loop_ymm(iters);
    return kind == "bf16" ? bf16_loop(iters) : amx_loop(iters);
  };
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
    double gflops = threads * static_cast<double>(iters) * flops_per_iter / slowest / 1e9;
    if (gflops > best) best = gflops;
  }
  std::printf("{\"kind\":\"%s\",\"threads\":%d,\"gflops\":%.3f,\"vector\":\"%s\"}\n", kind.c_str(), threads, best,
              kind == "fp32" && !zmm ? "ymm" : "zmm");
  return 0;
}
