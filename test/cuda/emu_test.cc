// The CUDA emulation lane checked on its own, built with AddressSanitizer by test/cuda/build-emu-test.sh
// and run by emu.test.ts. Each case is a subcommand so that the ones expected to crash (an out-of-bounds
// shared-memory index, caught by ASan) run in their own process:
//   races      a test-only kernel with its __syncthreads removed gives a wrong result (it reads the poison
//              of unwritten shared memory, or another thread's stale slot), the same kernel with the barrier
//              is right under every thread order
//   deadlock   a __syncthreads not reached by every thread is reported as a launch failure, not a hang
//   orders     every real kernel family (GEMM, norms, attention forward/backward, losses) gives bit-identical
//              results under forward, reverse and shuffled thread orders (no race on shared memory)
//   philox     the device Philox (kernels/cuda/philox.cuh) equals kernels/cpu/philox.h element by element
//   oob        a test-only kernel indexes dynamic shared memory one past its end: ASan must abort
//   planted    bugs that FIFO release and static shared memory used to hide are caught: a block reduction
//              without its trailing __syncthreads (eager order), a read of static __shared__ memory before
//              any write (poison), dynamic shared memory above 48 KB without the opt-in, a failed
//              cudaMemsetAsync inside a launcher
//   determinism the grid reductions (gradient sum of squares, the losses) are bitwise identical whatever order
//              the blocks run in; a test-only float atomicAdd per block is not
//   racecheck  the shadow write map: real kernels on device memory pass it; attention backward with its dQ
//              atomicAdd replaced by += (built by build-emu-test.sh as ftc_planted) fails it
//   threads    launches from several OS threads at once (each has its own pool of fibers; launches take
//              turns) all give the right result
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../../kernels/cpu/philox.h"
#include "../../kernels/cuda/launch.h"
#include "../../kernels/cuda/ops.h"
#include "../../kernels/cuda/reduce.cuh"

// The planted copy of attention.cu (see build-emu-test.sh): the same functions in namespace ftc_planted.
namespace ftc_planted {
struct DropKey;
int64_t attention_backward_scratch(int64_t B, int64_t S, int64_t D, int64_t H);
void attention_backward(const float* dout, const float* q, const float* k, const float* v, const float* out,
                        const float* lse, float* dq, float* dk, float* dv, float* scratch, int64_t B, int64_t S,
                        int64_t D, int64_t H, const DropKey& drop, bool overwrite = false);
}  // namespace ftc_planted

// Shared with emu_mma_test.cc (the tensor-core cases).
int failures = 0;

void expect(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = lo + (hi - lo) * (float)(seed >> 8) / 16777216.0f;
  }
  return v;
}

// One attention forward and backward on random q, k, v, dO (seeds seed .. seed + 3); the backward's blocks in
// reverse order when asked (the emulator's reverse_blocks). Every result: out, lse, dq, dk, dv.
struct AttentionPass {
  std::vector<float> out, lse, dq, dk, dv;
};
AttentionPass attention_pass(int B, int S, int D, int H, uint32_t seed, const ftc::DropKey& key, bool overwrite,
                             bool reverse_backward = false) {
  const size_t n = (size_t)B * S * D;
  auto q = random_vec(n, seed), k = random_vec(n, seed + 1), v = random_vec(n, seed + 2), dout = random_vec(n, seed + 3);
  AttentionPass r{std::vector<float>(n), std::vector<float>((size_t)B * H * S), std::vector<float>(n), std::vector<float>(n),
                  std::vector<float>(n)};
  std::vector<float> scratch((size_t)ftc::attention_backward_scratch(B, S, D, H));
  ftc::attention_forward(q.data(), k.data(), v.data(), r.out.data(), r.lse.data(), scratch.data(), B, S, D, H, key);
  ftemu::config().reverse_blocks = reverse_backward;
  ftc::attention_backward(dout.data(), q.data(), k.data(), v.data(), r.out.data(), r.lse.data(), r.dq.data(),
                          r.dk.data(), r.dv.data(), scratch.data(), B, S, D, H, key, overwrite);
  ftemu::config().reverse_blocks = false;
  return r;
}

// A device copy of v (cudaMalloc: the race check's shadow map covers device allocations only).
float* dev(const std::vector<float>& v) {
  void* p = nullptr;
  cudaMalloc(&p, v.size() * sizeof(float));
  cudaMemcpy(p, v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice);
  return static_cast<float*>(p);
}

void mma_tests(const std::string& which);

namespace {


// Each thread writes its slot, then reads its right neighbour's: needs a barrier in between.
__global__ void neighbour_sum(float* out, int with_barrier) {
  FT_DYNAMIC_SHARED(float, slots);
  const int t = threadIdx.x, n = blockDim.x;
  slots[t] = (float)(t + 1);
  if (with_barrier) __syncthreads();
  out[t] = slots[t] + slots[(t + 1) % n];
}

// Two phases reuse one slot per thread: without the second barrier a fast thread overwrites a slot its
// neighbour has not read yet (a write-after-read race).
__global__ void two_phase(float* out, int with_barrier) {
  FT_DYNAMIC_SHARED(float, slots);
  const int t = threadIdx.x, n = blockDim.x;
  slots[t] = (float)t;
  __syncthreads();
  const float a = slots[(t + 1) % n];
  if (with_barrier) __syncthreads();
  slots[t] = 100.0f + (float)t;
  __syncthreads();
  out[t] = a + slots[(t + n - 1) % n];
}

// ftc::block_sum with its trailing __syncthreads deleted (the planted bug of the CUDA issue): back to back, a
// warp that runs ahead into the second sum overwrites scratch[0] while other warps still read the first total.
__device__ float block_sum_no_trailing(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = ftc::warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float t = lane < warps ? scratch[lane] : 0.0f;
    t = ftc::warp_sum(t);
    if (lane == 0) scratch[0] = t;
  }
  __syncthreads();
  return scratch[0];
}

__global__ void two_sums(float* out, int correct) {
  __shared__ float scratch[32];
  const float a = correct ? ftc::block_sum(1.0f, scratch) : block_sum_no_trailing(1.0f, scratch);
  const float b = correct ? ftc::block_sum(2.0f, scratch) : block_sum_no_trailing(2.0f, scratch);
  out[threadIdx.x] = a + 1000.0f * b;
}

// Reads static shared memory that no thread wrote: on hardware, whatever the last block left there. (The
// write the launch never takes keeps the compiler from folding the reads of a never-written static to 0.)
__global__ void static_uninitialised(float* out, int write_first) {
  __shared__ float slots[64];
  if (write_first) slots[threadIdx.x] = 2.0f;
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = slots[threadIdx.x];
}

__global__ void big_shared(float* out) {
  FT_DYNAMIC_SHARED(float, slots);
  slots[threadIdx.x] = 1.0f;
  out[threadIdx.x] = slots[threadIdx.x];
}

// The reduction the kernels used before: one float atomicAdd per block (its sum depends on the block order;
// a signed sum, so partials of both signs cancel and the rounding of each order shows).
__global__ void atomic_sum(const float* x, long long n, float* acc) {
  __shared__ float scratch[32];
  float s = 0.0f;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) s += x[i];
  s = ftc::block_sum(s, scratch);
  if (threadIdx.x == 0) atomicAdd(acc, s);
}

// Which block ran first: every block takes a ticket.
__global__ void block_order(int* counter, int* order) {
  if (threadIdx.x == 0) order[atomicAdd(counter, 1)] = (int)blockIdx.x;
}

__global__ void divergent_barrier(float* out) {
  if (threadIdx.x % 2 == 0) __syncthreads();
  out[threadIdx.x] = 1.0f;
}

__global__ void out_of_bounds(float* out) {
  FT_DYNAMIC_SHARED(float, slots);
  slots[threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = slots[threadIdx.x + 1];  // thread n−1 reads one past the n floats of shared memory
}

bool all_expected(const std::vector<float>& out, float (*want)(int, int)) {
  const int n = (int)out.size();
  for (int t = 0; t < n; ++t)
    if (!(out[t] == want(t, n))) return false;
  return true;
}

float want_neighbour(int t, int n) { return (float)(t + 1) + (float)((t + 1) % n + 1); }
float want_two_phase(int t, int n) { return (float)((t + 1) % n) + 100.0f + (float)((t + n - 1) % n); }

const ftemu::Order ORDERS[] = {ftemu::Order::Forward, ftemu::Order::Reverse, ftemu::Order::Shuffle, ftemu::Order::Eager};
const char* ORDER_NAMES[] = {"forward", "reverse", "shuffle", "eager"};
constexpr int N_ORDERS = 4;

void races() {
  const int n = 64;
  for (int with = 1; with >= 0; --with) {
    bool any_wrong_neighbour = false, any_wrong_phase = false;
    for (int o = 0; o < N_ORDERS; ++o) {
      ftemu::config().order = ORDERS[o];
      std::vector<float> out(n, -1.0f);
      FT_LAUNCH(neighbour_sum, 1, n, n * sizeof(float), out.data(), with);
      expect(cudaGetLastError() == cudaSuccess, std::string("neighbour_sum launches (") + ORDER_NAMES[o] + ")");
      const bool right = all_expected(out, want_neighbour);
      if (with) expect(right, std::string("neighbour_sum with __syncthreads is right (") + ORDER_NAMES[o] + ")");
      any_wrong_neighbour = any_wrong_neighbour || !right;
      std::vector<float> out2(n, -1.0f);
      FT_LAUNCH(two_phase, 1, n, n * sizeof(float), out2.data(), with);
      const bool right2 = all_expected(out2, want_two_phase);
      if (with) expect(right2, std::string("two_phase with both barriers is right (") + ORDER_NAMES[o] + ")");
      any_wrong_phase = any_wrong_phase || !right2;
    }
    if (!with) {
      expect(any_wrong_neighbour, "neighbour_sum WITHOUT __syncthreads is caught (wrong result under some order)");
      expect(any_wrong_phase, "two_phase WITHOUT its second __syncthreads is caught (wrong result under some order)");
    }
  }
  ftemu::config().order = ftemu::Order::Forward;
}

void deadlock() {
  std::vector<float> out(64);
  FT_LAUNCH(divergent_barrier, 1, 64, 0, out.data());
  const cudaError_t e = cudaGetLastError();
  const std::string msg = cudaGetErrorString(e);
  expect(e == cudaErrorLaunchFailure, "a divergent __syncthreads fails the launch");
  expect(msg.find("deadlock") != std::string::npos && msg.find("divergent_barrier") != std::string::npos,
         "the failure names the kernel and says deadlock: " + msg);
  // The emulator is usable again afterwards.
  std::vector<float> ok(32, -1.0f);
  FT_LAUNCH(neighbour_sum, 1, 32, 32 * sizeof(float), ok.data(), 1);
  expect(cudaGetLastError() == cudaSuccess && all_expected(ok, want_neighbour), "launches work after a deadlock");
}

// The fibers of a block run on the launching OS thread, from that thread's own pool (a fiber that moved between
// threads could keep another thread's thread-local addresses). Four threads launch barrier-heavy blocks at once.
void threads() {
  constexpr int kThreads = 4, kLaunches = 25;
  std::vector<int> right(kThreads, 0);
  std::vector<std::thread> pool;
  for (int w = 0; w < kThreads; ++w) {
    pool.emplace_back([w, &right] {
      for (int l = 0; l < kLaunches; ++l) {
        const int n = 32 + 32 * ((w + l) % 4);
        std::vector<float> out(n, -1.0f), out2(n, -1.0f);
        FT_LAUNCH(neighbour_sum, 1, n, n * sizeof(float), out.data(), 1);
        FT_LAUNCH(two_phase, 1, n, n * sizeof(float), out2.data(), 1);
        if (all_expected(out, want_neighbour) && all_expected(out2, want_two_phase)) ++right[w];
      }
    });
  }
  for (auto& t : pool) t.join();
  for (int w = 0; w < kThreads; ++w)
    expect(right[w] == kLaunches, "thread " + std::to_string(w) + ": " + std::to_string(right[w]) + " of " +
                                      std::to_string(kLaunches) + " launch pairs right");
  std::vector<float> ok(64, -1.0f);
  FT_LAUNCH(neighbour_sum, 1, 64, 64 * sizeof(float), ok.data(), 1);
  expect(all_expected(ok, want_neighbour), "the main thread's launches still work");
}

// Runs fn under each order; all results must be bit-identical (and finite).
template <class Fn>
void same_under_orders(const std::string& what, Fn fn) {
  std::vector<std::vector<float>> results;
  for (int o = 0; o < N_ORDERS; ++o) {
    ftemu::config().order = ORDERS[o];
    ftemu::config().seed = 7 + o;
    results.push_back(fn());
    expect(cudaGetLastError() == cudaSuccess, what + " launches (" + ORDER_NAMES[o] + ")");
  }
  ftemu::config().order = ftemu::Order::Forward;
  bool finite = true;
  for (float x : results[0]) finite = finite && std::isfinite(x);
  expect(finite, what + " results are finite (no poisoned shared memory read)");
  bool same = true;
  for (int o = 1; o < N_ORDERS; ++o) same = same && results[o] == results[0];
  expect(same, what + " is identical under every thread order");
}

void orders() {
  same_under_orders("gemm 37x45x29", [] {
    const int M = 37, N = 45, K = 29;
    auto A = random_vec(M * K, 1), B = random_vec(N * K, 2);
    std::vector<float> C(M * N);
    ftc::linear_forward(A.data(), B.data(), nullptr, C.data(), M, K, N);
    return C;
  });
  same_under_orders("gemm dot path (HR head) 3x2x3000 + bias", [] {
    // Few outputs, long K: one block per output (gemm_dot_kernel), its block reduction in a fixed order.
    const int M = 3, N = 2, K = 3000;
    auto A = random_vec(M * K, 1), B = random_vec(N * K, 2), bias = random_vec(N, 3);
    std::vector<float> C(M * N);
    ftc::linear_forward(A.data(), B.data(), bias.data(), C.data(), M, K, N);
    return C;
  });
  same_under_orders("rms and layer norm", [] {
    const int N = 3, D = 150;
    auto x = random_vec(N * D, 3), s = random_vec(D, 4), dy = random_vec(N * D, 5);
    std::vector<float> y(N * D), r(N), dx(N * D), ds(D), mean(N), ly(N * D), beta(D);
    ftc::rms_norm_forward(x.data(), s.data(), 1e-8f, y.data(), r.data(), N, D);
    ftc::rms_norm_backward(dy.data(), x.data(), s.data(), r.data(), dx.data(), ds.data(), N, D);
    ftc::layer_norm_forward(x.data(), s.data(), beta.data(), 1e-5f, ly.data(), mean.data(), r.data(), N, D);
    y.insert(y.end(), dx.begin(), dx.end());
    y.insert(y.end(), ly.begin(), ly.end());
    return y;
  });
  for (const int D : {24, 256}) {
  // d = 12 (one lane per row) and d = 128 (a lane pair per row, joined by __shfl_xor_sync).
  same_under_orders("attention forward and backward S=37 D=" + std::to_string(D) + " H=2 (dropout)", [D] {
    auto [out, lse, dq, dk, dv] = attention_pass(1, 37, D, 2, 6, ftc::make_drop_key(0.1, 3, 4, 5), false);
    out.insert(out.end(), lse.begin(), lse.end());
    out.insert(out.end(), dk.begin(), dk.end());
    out.insert(out.end(), dv.begin(), dv.end());
    // dq is summed with atomics across key blocks: its float rounding may depend on the order; compare
    // it within float precision instead of bitwise.
    for (float& x : dq) x = std::round(x * 1e4f) / 1e4f;
    out.insert(out.end(), dq.begin(), dq.end());
    return out;
  });
  }
  same_under_orders("hr loss backward B=40", [] {
    const int B = 40;
    auto out = random_vec(2 * B, 10, -2, 2), hr = random_vec(B, 11, 40, 200), w = random_vec(B, 12, 0.1f, 1.0f);
    std::vector<float> dout(2 * B);
    ftc::hr_loss_backward(out.data(), hr.data(), w.data(), ftc::HrParams{1.0f, 0.1f}, dout.data(), 1.0f, B);
    return dout;
  });
}

// The RoPE table of an (S, d) is built by the first attention call that needs it and kept for the process
// (attention.cu cached_rope_table): repeated calls launch no rope_table_kernel, another d gets its own table, and
// the results with the kept table are those of the call that built it. (Shapes no other case here uses.)
void rope_cache() {
  auto launches = [] {
    std::lock_guard<std::mutex> lk(ftemu::launch_mutex());
    return ftemu::launch_counts()["rope_table_kernel"];
  };
  auto run = [](int D) {
    auto [out, lse, dq, dk, dv] = attention_pass(2, 29, D, 2, 21, ftc::make_drop_key(0.0, 1, 2, 3), true);
    for (const auto* t : {&lse, &dq, &dk, &dv}) out.insert(out.end(), t->begin(), t->end());
    return out;
  };
  ftemu::config().order = ftemu::Order::Forward;
  const long long n0 = launches();
  const auto a1 = run(40);  // d = 20
  const long long n1 = launches();
  const auto a2 = run(40);
  const auto b1 = run(56);  // d = 28: a table of its own
  const long long n2 = launches();
  const auto a3 = run(40);
  const auto b2 = run(56);
  expect(n1 - n0 == 1 && n2 - n1 == 1 && launches() == n2,
         "the RoPE table of each (S, d) is built once (launches: " + std::to_string(n1 - n0) + ", then " +
             std::to_string(n2 - n1) + " for a second d, then " + std::to_string(launches() - n2) + " more)");
  expect(a1 == a2 && a2 == a3 && b1 == b2, "attention with a kept RoPE table equals the call that built it");
}

// The gate of the GEMM epilogue on the dot-product path (few outputs, long K), which no layer's dx reaches: it
// equals the ungated product masked by gate > 0 (a zero and a NaN close it), and with accumulate it is refused
// (nothing launched, cudaErrorInvalidValue left for the op's check, C untouched).
void gemm_gate() {
  const int M = 3, N = 4, K = 3000;
  auto A = random_vec(M * K, 31), B = random_vec(N * K, 32);
  std::vector<float> gate = {1.0f, -1.0f, 0.0f, 2.0f, std::nanf(""), 0.5f, -0.0f, 3.0f, 1e-30f, -2.0f, 4.0f, 0.25f};
  std::vector<float> plain(M * N), gated(M * N, std::nanf(""));
  ftc::gemm(M, N, K, A.data(), K, 1, B.data(), 1, K, plain.data(), N, false, nullptr);
  ftc::gemm(M, N, K, A.data(), K, 1, B.data(), 1, K, gated.data(), N, false, nullptr, false, gate.data());
  bool ok = cudaGetLastError() == cudaSuccess;
  for (int e = 0; e < M * N; ++e) ok = ok && gated[e] == (gate[e] > 0.0f ? plain[e] : 0.0f) && !std::isnan(gated[e]);
  expect(ok, "gemm dot path 3x4x3000: the gate gives the product where gate > 0 and exactly 0 elsewhere (0, -0, NaN, < 0)");
  std::vector<float> acc(M * N, 1.5f);
  ftc::gemm(M, N, K, A.data(), K, 1, B.data(), 1, K, acc.data(), N, true, nullptr, false, gate.data());
  expect(ftc::take_pending_error() == cudaErrorInvalidValue && std::all_of(acc.begin(), acc.end(), [](float v) { return v == 1.5f; }),
         "gemm refuses a gate with accumulate: nothing written, cudaErrorInvalidValue for the op's check");
  // The addend (linear's residual), last in the epilogue: residual + the product, bit for bit, on the dot path
  // and on the 64×64 kernel (a shape past the dot path's four blocks); refused with accumulate like the gate.
  for (const int n : {N, 300}) {
    auto Bn = random_vec(n * K, 33);
    auto res = random_vec(M * n, 34);
    std::vector<float> prod(M * n), sum(M * n, std::nanf(""));
    ftc::gemm(M, n, K, A.data(), K, 1, Bn.data(), 1, K, prod.data(), n, false, nullptr);
    ftc::gemm(M, n, K, A.data(), K, 1, Bn.data(), 1, K, sum.data(), n, false, nullptr, false, nullptr, 1.0f, res.data());
    bool same = cudaGetLastError() == cudaSuccess;
    for (int e = 0; e < M * n; ++e) same = same && sum[e] == res[e] + prod[e];
    expect(same, "gemm " + std::to_string(M) + "x" + std::to_string(n) + "x3000: the addend gives residual + the product, bit for bit");
  }
  std::vector<float> acc2(M * N, 1.5f), res2(M * N, 1.0f);
  ftc::gemm(M, N, K, A.data(), K, 1, B.data(), 1, K, acc2.data(), N, true, nullptr, false, nullptr, 1.0f, res2.data());
  expect(ftc::take_pending_error() == cudaErrorInvalidValue && std::all_of(acc2.begin(), acc2.end(), [](float v) { return v == 1.5f; }),
         "gemm refuses an addend with accumulate: nothing written, cudaErrorInvalidValue for the op's check");
}

// dQ gets one atomicAdd per key block: with at most two blocks per row the sum into zeros is a + b = b + a, the
// same in any block order; with three or more it is not. Forward against reverse block order, fp32 (32 keys per
// block) and bf16 tensor-core (64).
void dq_order() {
  auto dq_of = [](int S, bool reverse) {
    ftemu::config().order = ftemu::Order::Forward;
    return attention_pass(1, S, 64, 1, 41, ftc::make_drop_key(0.0, 1, 2, 3), true, reverse).dq;
  };
  auto same = [&](int S) { return dq_of(S, false) == dq_of(S, true); };
  expect(same(31) && same(64), "fp32 attention: dq bitwise the same in either block order at S = 31 and 64 (<= 2 key blocks)");
  expect(!same(97), "fp32 attention: dq differs in the last bits between block orders at S = 97 (4 key blocks)");
  ftc::compute_mode() = ftc::ComputeMode::Bf16;
  const bool bf_same = same(97), bf_differs = !same(200);
  ftc::compute_mode() = ftc::ComputeMode::Fp32;
  expect(bf_same && bf_differs, "bf16 attention: dq bitwise the same in either block order at S = 97 (2 blocks of 64 keys), not at S = 200");
}

void philox() {
  const uint64_t seeds[] = {0, 1, 12345, (1ULL << 40) + 99, 9007199254740991ULL};
  const double ps[] = {0.0, 0.1, 0.5, 0.9};
  bool same = true;
  for (uint64_t seed : seeds) {
    for (double p : ps) {
      const ftc::DropKey dk = ftc::make_drop_key(p, seed, 77u, 4000000000u);
      const ft::DropoutKey ck{seed, 77u, 4000000000u};
      const uint32_t th = ft::dropout_threshold(p);
      same = same && dk.threshold == th;
      for (uint64_t i = 0; i < 5000; ++i) same = same && ftc::drop_keep(dk, i) == ft::dropout_keep(ck, th, i);
      for (uint64_t i = (1ULL << 34) - 8; i < (1ULL << 34) + 8; ++i) same = same && ftc::drop_keep(dk, i) == ft::dropout_keep(ck, th, i);
    }
  }
  expect(same, "device Philox equals kernels/cpu/philox.h (thresholds and keep flags, incl. indices past 2^32)");
}

void oob() {
  std::vector<float> out(32);
  FT_LAUNCH(out_of_bounds, 1, 32, 32 * sizeof(float), out.data());
  std::printf("out_of_bounds finished without a sanitizer report\n");
}

}  // namespace

void planted() {
  // 1. The trailing barrier of a block reduction. 128 threads: a = 128, b = 256.
  const int n = 128;
  const float want = 128.0f + 1000.0f * 256.0f;
  for (int correct = 1; correct >= 0; --correct) {
    for (int o = 0; o < N_ORDERS; ++o) {
      ftemu::config().order = ORDERS[o];
      ftemu::config().seed = 3;
      std::vector<float> out(n, -1.0f);
      FT_LAUNCH(two_sums, 1, n, 0, out.data(), correct);
      expect(cudaGetLastError() == cudaSuccess, std::string("two_sums launches (") + ORDER_NAMES[o] + ")");
      bool right = true;
      for (float x : out) right = right && x == want;
      if (correct) expect(right, std::string("back-to-back block_sum is right (") + ORDER_NAMES[o] + ")");
      // FIFO release cannot show the missing trailing barrier; the eager order must.
      if (!correct && ORDERS[o] == ftemu::Order::Eager) expect(!right, "block_sum WITHOUT its trailing __syncthreads is caught (eager order)");
    }
  }
  ftemu::config().order = ftemu::Order::Forward;

  // 2. Static shared memory is poisoned at every block start: an unwritten read is NaN, in every block.
  std::vector<float> out(64 * 3, 0.0f);
  // A first launch writes the slots, so a later block that reads without writing would see 2.0 unpoisoned.
  FT_LAUNCH(static_uninitialised, 1, 64, 0, out.data(), 1);
  expect(cudaGetLastError() == cudaSuccess && out[5] == 2.0f, "static shared memory written and read back");
  FT_LAUNCH(static_uninitialised, 3, 64, 0, out.data(), 0);
  bool nan = cudaGetLastError() == cudaSuccess;
  for (float x : out) nan = nan && std::isnan(x);
  expect(nan, "a read of static __shared__ memory before any write is caught (poison, every block)");

  // 3. More than 48 KB of dynamic shared memory needs the opt-in, as on hardware.
  std::vector<float> big(64, 0.0f);
  const size_t bytes = 64 * 1024;
  FT_LAUNCH(big_shared, 1, 64, bytes, big.data());
  const cudaError_t refused = cudaGetLastError();
  expect(refused == cudaErrorInvalidConfiguration && std::string(cudaGetErrorString(refused)).find("cudaFuncSetAttribute") != std::string::npos,
         "64 KB of dynamic shared memory without cudaFuncSetAttribute fails the launch");
  expect(cudaFuncSetAttribute(big_shared, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes) == cudaSuccess, "the opt-in is accepted");
  FT_LAUNCH(big_shared, 1, 64, bytes, big.data());
  expect(cudaGetLastError() == cudaSuccess && big[63] == 1.0f, "after the opt-in the launch runs");

  // 4. A failed cudaMemsetAsync inside a launcher is kept for the glue's check, not lost.
  ftc::zero_async(nullptr, 16);
  expect(ftc::take_pending_error() == cudaErrorInvalidValue, "a failed cudaMemsetAsync is reported to the op's check");
  expect(ftc::take_pending_error() == cudaSuccess, "and only once");
}

void determinism() {
  const long long n = 1 << 12;  // 16 blocks of 256 threads (every emulated block starts 256 threads)
  float* x = dev(random_vec((size_t)n, 21, -3.0f, 3.0f));
  auto run = [&](bool reverse) {
    ftemu::config().reverse_blocks = reverse;
    ftemu::config().race_check = false;
    std::vector<double> out(6);
    double* acc = nullptr;
    cudaMalloc(reinterpret_cast<void**>(&acc), sizeof(double));
    cudaMemset(acc, 0, sizeof(double));
    ftc::sum_squares_add(x, n, acc);
    cudaMemcpy(&out[0], acc, sizeof(double), cudaMemcpyDeviceToHost);
    float* loss = dev(std::vector<float>(1));
    float* t = dev(random_vec((size_t)n, 22, 0.0f, 1.0f));
    ftc::bce_forward(x, t, loss, n);
    float l = 0;
    cudaMemcpy(&l, loss, sizeof(float), cudaMemcpyDeviceToHost);
    out[1] = l;
    ftc::softmax_ce_forward(x, t, loss, n / 4, 4);
    cudaMemcpy(&l, loss, sizeof(float), cudaMemcpyDeviceToHost);
    out[2] = l;
    // Partials 1e8, -1e8 and fourteen 1s: forward, 1e8 - 1e8 + 14 = 14; backward the 1s are absorbed by
    // -1e8 (float spacing 8 there) and the sum lands elsewhere.
    std::vector<float> spikes((size_t)n, 0.0f);
    spikes[0] = 1e8f;
    spikes[256] = -1e8f;
    for (int b = 2; b < 16; ++b) spikes[(size_t)b * 256] = 1.0f;
    float* sp = dev(spikes);
    float* fa = dev(std::vector<float>(1));
    FT_LAUNCH(atomic_sum, 16, 256, 0, sp, n, fa);
    cudaMemcpy(&l, fa, sizeof(float), cudaMemcpyDeviceToHost);
    out[3] = l;
    int* tickets = nullptr;
    cudaMalloc(reinterpret_cast<void**>(&tickets), 17 * sizeof(int));
    cudaMemset(tickets, 0, 17 * sizeof(int));
    FT_LAUNCH(block_order, 16, 32, 0, tickets, tickets + 1);
    int first = -1;
    cudaMemcpy(&first, tickets + 1, sizeof(int), cudaMemcpyDeviceToHost);
    out[5] = first;
    cudaFree(sp);
    cudaFree(tickets);
    out[4] = cudaGetLastError() == cudaSuccess ? 1 : 0;
    for (void* p : {(void*)acc, (void*)loss, (void*)t, (void*)fa}) cudaFree(p);
    ftemu::config().reverse_blocks = false;
    return out;
  };
  const auto fwd = run(false), rev = run(true);
  expect(fwd[4] == 1 && rev[4] == 1, "the reductions launch");
  expect(fwd[0] == rev[0] && fwd[0] > 0, "sum of squares (gradient norm) is bitwise identical in either block order");
  expect(fwd[1] == rev[1], "BCE loss is bitwise identical in either block order");
  expect(fwd[2] == rev[2], "cross-entropy loss is bitwise identical in either block order");
  expect(fwd[5] == 0 && rev[5] == 15, "reverse_blocks runs the last block first");
  expect(fwd[3] != rev[3], "a float atomicAdd per block is not (the check can fail)");
  // The new reductions under the race check (a small grid: the check copies device memory per block): the
  // partials and the last block's write do not conflict.
  cudaFree(x);
  x = dev(random_vec(4096, 23));
  ftemu::config().race_check = true;
  double* acc = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&acc), sizeof(double));
  cudaMemset(acc, 0, sizeof(double));
  ftc::sum_squares_add(x, 4096, acc);
  expect(cudaGetLastError() == cudaSuccess, "the last-block reduction passes the race check");
  ftemu::config().race_check = false;
  cudaFree(acc);
  cudaFree(x);
}

void racecheck() {
  ftemu::config().race_check = true;
  // Real kernels: GEMM (+ bias), RMSNorm forward/backward (with the scale gradient), attention forward/backward.
  const int M = 70, N = 45, K = 29;
  float *A = dev(random_vec(M * K, 1)), *W = dev(random_vec(N * K, 2)), *bias = dev(random_vec(N, 3)), *C = dev(std::vector<float>(M * N));
  ftc::linear_forward(A, W, bias, C, M, K, N);
  expect(cudaGetLastError() == cudaSuccess, "gemm passes the race check");
  {
    const int DM = 3, DN = 2, DK = 3000;
    float *dA = dev(random_vec(DM * DK, 1)), *dW = dev(random_vec(DN * DK, 2)), *dC = dev(std::vector<float>(DM * DN));
    ftc::linear_forward(dA, dW, bias, dC, DM, DK, DN);
    expect(cudaGetLastError() == cudaSuccess, "gemm dot path passes the race check");
    for (float* p : {dA, dW, dC}) cudaFree(p);
  }
  const int R = 33, D = 40;
  float *x = dev(random_vec(R * D, 4)), *sc = dev(random_vec(D, 5)), *y = dev(std::vector<float>(R * D)), *rs = dev(std::vector<float>(R));
  float *dy = dev(random_vec(R * D, 6)), *dx = dev(std::vector<float>(R * D)), *dsc = dev(std::vector<float>(D));
  ftc::rms_norm_forward(x, sc, 1e-6f, y, rs, R, D);
  ftc::rms_norm_backward(dy, x, sc, rs, dx, dsc, R, D);
  expect(cudaGetLastError() == cudaSuccess, "rms norm forward and backward pass the race check");
  const int B = 2, S = 37, AD = 24, H = 2;
  const size_t n = (size_t)B * S * AD;
  float *q = dev(random_vec(n, 6)), *k = dev(random_vec(n, 7)), *v = dev(random_vec(n, 8)), *dout = dev(random_vec(n, 9));
  float *out = dev(std::vector<float>(n)), *lse = dev(std::vector<float>(B * H * S)), *dq = dev(std::vector<float>(n));
  float *dk = dev(std::vector<float>(n)), *dv = dev(std::vector<float>(n));
  float* scratch = dev(std::vector<float>((size_t)ftc::attention_backward_scratch(B, S, AD, H)));
  const ftc::DropKey key = ftc::make_drop_key(0.0, 1, 2, 3);
  ftc::attention_forward(q, k, v, out, lse, scratch, B, S, AD, H, key);
  expect(cudaGetLastError() == cudaSuccess, "attention forward passes the race check");
  ftc::attention_backward(dout, q, k, v, out, lse, dq, dk, dv, scratch, B, S, AD, H, key);
  expect(cudaGetLastError() == cudaSuccess, "attention backward (dQ through atomicAdd) passes the race check");
  {
    // d = 128: a lane pair per row or key, and the backward's 51.6 KB of shared memory (opted in).
    const int D2 = 256;
    const size_t n2 = (size_t)B * S * D2;
    float *q2 = dev(random_vec(n2, 16)), *k2 = dev(random_vec(n2, 17)), *v2 = dev(random_vec(n2, 18)), *do2 = dev(random_vec(n2, 19));
    float *o2 = dev(std::vector<float>(n2)), *l2 = dev(std::vector<float>(B * H * S)), *dq2 = dev(std::vector<float>(n2));
    float *dk2 = dev(std::vector<float>(n2)), *dv2 = dev(std::vector<float>(n2));
    float* sc2 = dev(std::vector<float>((size_t)ftc::attention_backward_scratch(B, S, D2, H)));
    ftc::attention_forward(q2, k2, v2, o2, l2, sc2, B, S, D2, H, key);
    expect(cudaGetLastError() == cudaSuccess, "attention forward at d = 128 passes the race check");
    ftc::attention_backward(do2, q2, k2, v2, o2, l2, dq2, dk2, dv2, sc2, B, S, D2, H, key);
    expect(cudaGetLastError() == cudaSuccess, "attention backward at d = 128 passes the race check");
    for (float* p : {q2, k2, v2, do2, o2, l2, dq2, dk2, dv2, sc2}) cudaFree(p);
  }
  // The planted bug: dQ accumulated with += from every key block.
  ftc_planted::attention_backward(dout, q, k, v, out, lse, dq, dk, dv, scratch, B, S, AD, H,
                                  *reinterpret_cast<const ftc_planted::DropKey*>(&key));
  const cudaError_t e = cudaGetLastError();
  const std::string msg = cudaGetErrorString(e);
  expect(e == cudaErrorLaunchFailure && msg.find("race: blocks") != std::string::npos && msg.find("attn_backward_kernel") != std::string::npos,
         "attention backward with dQ += instead of atomicAdd is caught: " + msg);
  ftemu::config().race_check = false;
  for (float* p : {A, W, bias, C, x, sc, y, rs, dy, dx, dsc, q, k, v, dout, out, lse, dq, dk, dv, scratch}) cudaFree(p);
}

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "all";
  if (which == "races" || which == "all") races();
  if (which == "deadlock" || which == "all") deadlock();
  if (which == "orders" || which == "all") orders();
  if (which == "philox" || which == "all") philox();
  if (which == "rope_cache" || which == "all") rope_cache();
  if (which == "gemm_gate" || which == "all") gemm_gate();
  if (which == "dq_order" || which == "all") dq_order();
  if (which == "planted" || which == "all") planted();
  if (which == "racecheck" || which == "all") racecheck();
  if (which == "determinism" || which == "all") determinism();
  if (which == "threads" || which == "all") threads();
  mma_tests(which);
  if (which == "oob") oob();
  std::printf("%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
