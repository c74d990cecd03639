// CUDA emulation for g++: lets the .cu kernels of kernels/cuda run on the CPU, unchanged, so that a machine
// without a GPU (this project's CI) still executes every kernel and compares it with the reference backend.
//
// Model (DESIGN.md section 7): blocks run one after another; inside a block every CUDA thread is a real
// std::thread, but only ONE of them runs at a time. A thread runs until it reaches a barrier
// (__syncthreads, or the per-warp barrier inside a shuffle) or returns, then hands the token to the next
// ready thread in a chosen ORDER (forward, reverse, or a seeded shuffle). This cooperative schedule makes
// every interleaving reproducible and lets tests run the same kernel under different orders:
//  - a missing __syncthreads makes a thread read shared memory before (or after) another thread wrote it,
//    so different orders give different results, and a read-before-write sees the poison (all bits set,
//    a NaN) that fills dynamic shared memory at the start of each block;
//  - a barrier not reached by every thread (divergent __syncthreads, a thread that returned early, a
//    shuffle in a divergent branch) leaves no ready thread: reported at once as a deadlock, never a hang;
//  - dynamic shared memory is an exactly sized heap allocation per block, so AddressSanitizer (the
//    emulation test binary is built with -fsanitize=address) reports an out-of-bounds index.
// `__shared__` is `static`: shared by the block's threads, and per block because blocks run one at a time.
// Static shared arrays live in one linker section (ftemu_shared) that is refilled with the poison at every
// block start, like dynamic shared memory, so a read before the block wrote it is a NaN here too.
// The EAGER order puts threads released by a barrier at the FRONT of the queue: a warp freed by its shuffle
// barrier runs on through its next phase before the other warps have run the end of the previous one, as a
// fast warp can on hardware. It catches the write-after-read race of a reduction that lacks its trailing
// __syncthreads (another warp still reading the shared result), which FIFO release never shows.
// RACE CHECK (config().race_check): blocks still run one after another, so a cross-block race cannot show
// as a lost update; instead a shadow map records which block last wrote each 4-byte word of device memory
// (every cudaMalloc allocation, compared before and after each block) and which words atomics touched. A
// word written by two blocks of one launch, not through atomicAdd, fails the launch naming kernel, blocks
// and address (e.g. the dQ atomicAdd of attention backward replaced by +=). Writes of an unchanged value
// and cross-block read-after-write are not seen. Costly (a copy of device memory per block): for tests.
// Dynamic shared memory above 48 KB needs cudaFuncSetAttribute(kernel,
// cudaFuncAttributeMaxDynamicSharedMemorySize, bytes) first, as on hardware; a launch without it fails.
// Warp shuffles deposit the lane's value in a per-warp exchange array between two per-warp barriers.
// atomicAdd goes through std::atomic_ref. The runtime API subset (cudaMalloc, cudaMemcpy, …) maps device
// memory to host memory. Launches are serialised by a mutex (one emulated device).
#pragma once
#if defined(__CUDACC__)
#error "cuda_emu.h is for host compilers only; nvcc uses the real runtime"
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <semaphore>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// ---------------------------------------------------------------- language
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
using uint3 = dim3;
// CUDA's 16-byte vector type (kernels declare dynamic shared memory with it for 16-byte alignment).
struct alignas(16) uint4 {
  unsigned x, y, z, w;
};

inline thread_local dim3 threadIdx;
inline thread_local dim3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static __attribute__((section("ftemu_shared")))
#define __launch_bounds__(...)
#define __restrict__ __restrict

namespace ftemu {

enum class Order { Forward, Reverse, Shuffle, Eager };

struct Config {
  Order order = Order::Forward;
  uint32_t seed = 1;  // for Order::Shuffle
  bool poison = true;  // fill dynamic shared memory with 0xFF bytes at block start
  bool race_check = false;  // shadow map of cross-block writes to device memory (see above)
  bool reverse_blocks = false;  // run a grid's blocks last to first (a result must not depend on block order)
};

// Device allocations (cudaMalloc), for the race check's shadow map.
inline std::mutex& alloc_mutex() {
  static std::mutex m;
  return m;
}
inline std::vector<std::pair<unsigned char*, size_t>>& allocations() {
  static std::vector<std::pair<unsigned char*, size_t>> v;
  return v;
}

// Words touched by atomics during a race-checked launch.
inline std::atomic<bool> g_race_checking{false};
inline std::mutex& atomics_mutex() {
  static std::mutex m;
  return m;
}
inline std::vector<uintptr_t>& atomic_words() {
  static std::vector<uintptr_t> v;
  return v;
}
inline void note_atomic(const void* addr) {
  if (!g_race_checking.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lk(atomics_mutex());
  atomic_words().push_back(reinterpret_cast<uintptr_t>(addr) & ~(uintptr_t)3);
}

inline Config& config() {
  static Config c;
  return c;
}

// Thrown inside emulated threads to unwind them when the block is aborted (deadlock or error).
struct Abort {};

class Block;
inline thread_local Block* tl_block = nullptr;
inline thread_local int tl_tid = 0;
inline unsigned char* g_dynamic_shared = nullptr;

inline void* dynamic_shared() { return g_dynamic_shared; }

// An OS thread that runs CUDA threads. A CUDA thread that has not started has no stack yet, so any idle
// worker (or the worker whose thread just returned) may start it; only a thread parked at a barrier is
// tied to its worker. Barrier-free kernels therefore run without any thread switch.
struct Worker {
  std::binary_semaphore go{0};
  Block* block = nullptr;
  int tid = -1;  // the CUDA thread to start when woken (-1: resume the parked one)
  std::thread th;
};

class Pool {
 public:
  static Pool& get() {
    static Pool p;
    return p;
  }
  ~Pool();
  Worker* take_idle();
  void give_back(Worker* w) {
    std::lock_guard<std::mutex> lk(mu_);
    idle_.push_back(w);
  }

 private:
  void loop(Worker* w);
  std::mutex mu_;
  std::vector<std::unique_ptr<Worker>> all_;
  std::vector<Worker*> idle_;
  std::atomic<bool> quit_{false};
};

inline thread_local Worker* tl_worker = nullptr;

// One cooperative schedule: the state of a block's threads and barriers.
class Block {
 public:
  Block(int nthreads, Order order, uint32_t seed, const std::function<void(int)>& body)
      : n_(nthreads), order_(order), rng_(seed ? seed : 1), body_(body), state_(nthreads, kReady),
        waiting_on_(nthreads, -1), what_(nthreads, nullptr), worker_(nthreads, nullptr), xchg_(nthreads), wide_((size_t)nthreads * kWideWords), async_(nthreads) {
    const int warps = (nthreads + 31) / 32;
    expected_.push_back(nthreads);  // barrier 0: the block; 1 + w: warp w
    for (int w = 0; w < warps; ++w) expected_.push_back(std::min(32, nthreads - 32 * w));
    arrived_.assign(expected_.size(), 0);
    std::vector<int> all(nthreads);
    for (int i = 0; i < nthreads; ++i) all[i] = i;
    enqueue(all);
  }

  int size() const { return n_; }
  uint64_t* exchange() { return xchg_.data(); }
  // Per-thread slots of the warp-wide instructions (mma, ldmatrix): kWideWords 32-bit words per thread.
  static constexpr int kWideWords = 16;
  uint32_t* wide() { return wide_.data(); }
  // cp.async copies a thread issued and has not waited for yet (see cp_async below).
  struct AsyncCopy {
    void* dst;
    const void* src;
    int bytes;
    int group;  // -1 until cp.async.commit_group closes it
  };
  struct AsyncState {
    std::vector<AsyncCopy> pending;
    int committed = 0;
  };
  AsyncState& async_of(int tid) { return async_[tid]; }
  const std::function<void(int)>& body() const { return body_; }

  // The running thread waits at barrier `bar` until every member arrived.
  void barrier(int bar, const char* what) {
    const int me = tl_tid;
    Step step;
    bool aborted;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (aborted_) throw Abort{};
      waiting_on_[me] = bar;
      what_[me] = what;
      state_[me] = kWaiting;
      if (++arrived_[bar] == expected_[bar]) {
        arrived_[bar] = 0;
        std::vector<int> released;
        for (int t = 0; t < n_; ++t) {
          if (state_[t] == kWaiting && waiting_on_[t] == bar) {
            state_[t] = kReady;
            released.push_back(t);
          }
        }
        enqueue(released);
      }
      step = next_locked(me);
      aborted = aborted_;
    }
    if (aborted) {
      dispatch(step);
      throw Abort{};
    }
    if (step.kind == Step::kKeep) {
      std::lock_guard<std::mutex> lk(mu_);
      state_[me] = kRunning;
      return;
    }
    dispatch(step);
    tl_worker->go.acquire();
    std::lock_guard<std::mutex> lk(mu_);
    if (aborted_) throw Abort{};
  }

  // A worker runs CUDA threads of this block until none is left for it; returns when it must park idle.
  void run_from(int tid) {
    for (;;) {
      tl_block = this;
      tl_tid = tid;
      std::exception_ptr err;
      try {
        body_(tid);
      } catch (const Abort&) {
      } catch (...) {
        err = std::current_exception();
      }
      Step step;
      {
        std::lock_guard<std::mutex> lk(mu_);
        state_[tid] = kDone;
        if (err && !error_) error_ = err;
        if (err) aborted_ = true;
        step = next_locked(-1);
        if (step.kind == Step::kStart) {  // start the fresh thread on this very worker
          state_[step.tid] = kRunning;
          worker_[step.tid] = tl_worker;
          tid = step.tid;
          continue;
        }
      }
      dispatch(step);
      return;
    }
  }

  // The launcher: start the first thread, wait for the block to end, return "" or the failure.
  std::string run_and_wait() {
    Step step;
    {
      std::lock_guard<std::mutex> lk(mu_);
      step = next_locked(-1);
    }
    dispatch(step);
    done_.acquire();
    if (error_) {
      try {
        std::rethrow_exception(error_);
      } catch (const std::exception& e) {
        return std::string("exception in kernel: ") + e.what();
      } catch (...) {
        return "unknown exception in kernel";
      }
    }
    return failure_;
  }

 private:
  enum : int { kReady = 0, kWaiting = 1, kDone = 2, kRunning = 3, kAborting = 4 };
  struct Step {
    enum Kind { kKeep, kStart, kResume, kFinished, kNone } kind = kNone;
    int tid = -1;
    std::vector<Worker*> wake;  // workers to release (resume, or unwind after an abort)
  };

  void enqueue(std::vector<int>& ts) {
    if (order_ == Order::Reverse) std::reverse(ts.begin(), ts.end());
    if (order_ == Order::Shuffle) {
      for (size_t i = ts.size(); i > 1; --i) {
        rng_ ^= rng_ << 13;
        rng_ ^= rng_ >> 17;
        rng_ ^= rng_ << 5;
        std::swap(ts[i - 1], ts[rng_ % i]);
      }
    }
    if (order_ == Order::Eager) {
      // Released threads run next, in order, ahead of those still waiting for their turn. (Not shuffled: a
      // shuffle spreads a warp's threads over the queue, so the warp is released last and never gets ahead.)
      queue_.insert(queue_.begin() + (long)queue_head_, ts.begin(), ts.end());
      return;
    }
    for (int t : ts) queue_.push_back(t);
  }

  bool all_done() const {
    for (int t = 0; t < n_; ++t)
      if (state_[t] != kDone) return false;
    return true;
  }

  // Decides who runs next (mu_ held). `me` is the thread arriving at a barrier, or -1.
  Step next_locked(int me) {
    Step s;
    if (!aborted_) {
      while (queue_head_ < queue_.size()) {
        const int next = queue_[queue_head_++];
        if (state_[next] != kReady) continue;
        if (next == me) {
          s.kind = Step::kKeep;
          return s;
        }
        s.tid = next;
        if (worker_[next] == nullptr) {
          s.kind = Step::kStart;
        } else {
          state_[next] = kRunning;
          s.kind = Step::kResume;
          s.wake.push_back(worker_[next]);
        }
        return s;
      }
      if (!all_done()) {
        // Nobody can run and somebody still waits: the barrier can never complete.
        int at_block = 0, at_warp = 0, exited = 0;
        const char* what = "";
        for (int t = 0; t < n_; ++t) {
          if (state_[t] == kDone) ++exited;
          else if (state_[t] == kWaiting && waiting_on_[t] == 0) ++at_block;
          else if (state_[t] == kWaiting) ++at_warp, what = what_[t];
        }
        failure_ = "deadlock: " + std::to_string(at_block) + " thread(s) wait at __syncthreads, " +
                   std::to_string(at_warp) + " at a warp barrier" + (at_warp ? std::string(" (") + what + ")" : "") +
                   ", " + std::to_string(exited) + " returned without reaching it (a barrier not reached by every thread)";
        aborted_ = true;
      }
    }
    if (aborted_) {
      // Wake every parked thread once so it unwinds; threads never started are simply marked done.
      for (int t = 0; t < n_; ++t) {
        if (state_[t] == kReady && worker_[t] == nullptr) state_[t] = kDone;
        if ((state_[t] == kWaiting || state_[t] == kReady) && t != me && worker_[t] != nullptr) {
          state_[t] = kAborting;
          s.wake.push_back(worker_[t]);
        }
      }
    }
    if (all_done() && !signalled_) {
      signalled_ = true;
      s.kind = Step::kFinished;
    }
    return s;
  }

  void dispatch(Step& s) {
    if (s.kind == Step::kStart) {
      Worker* w = Pool::get().take_idle();
      {
        std::lock_guard<std::mutex> lk(mu_);
        state_[s.tid] = kRunning;
        worker_[s.tid] = w;
      }
      w->block = this;
      w->tid = s.tid;
      w->go.release();
    }
    for (Worker* w : s.wake) w->go.release();
    if (s.kind == Step::kFinished) done_.release();
  }

  int n_;
  Order order_;
  uint32_t rng_;
  const std::function<void(int)>& body_;
  std::mutex mu_;
  std::vector<int> state_;
  std::vector<int> waiting_on_;
  std::vector<const char*> what_;
  std::vector<Worker*> worker_;
  std::vector<int> expected_;
  std::vector<int> arrived_;
  std::vector<int> queue_;
  size_t queue_head_ = 0;
  std::vector<uint64_t> xchg_;
  std::vector<uint32_t> wide_;
  std::vector<AsyncState> async_;
  bool aborted_ = false;
  bool signalled_ = false;
  std::exception_ptr error_;
  std::string failure_;
  std::binary_semaphore done_{0};
};

inline Pool::~Pool() {
  quit_ = true;
  for (auto& w : all_) w->go.release();
  for (auto& w : all_) w->th.join();
}

inline Worker* Pool::take_idle() {
  std::lock_guard<std::mutex> lk(mu_);
  if (!idle_.empty()) {
    Worker* w = idle_.back();
    idle_.pop_back();
    return w;
  }
  auto w = std::make_unique<Worker>();
  Worker* wp = w.get();
  w->th = std::thread([this, wp] { loop(wp); });
  all_.push_back(std::move(w));
  return wp;
}

inline void Pool::loop(Worker* w) {
  tl_worker = w;
  for (;;) {
    w->go.acquire();
    if (quit_) return;
    w->block->run_from(w->tid);
    give_back(w);
  }
}

inline std::mutex& launch_mutex() {
  static std::mutex m;
  return m;
}

inline std::string& last_failure() {
  static std::string s;
  return s;
}

inline int& last_error_code() {
  static int e = 0;
  return e;
}

// Dynamic shared memory a kernel may use above the default 48 KB, set by cudaFuncSetAttribute.
inline std::mutex& opt_in_mutex() {
  static std::mutex m;
  return m;
}
inline std::vector<std::pair<const void*, size_t>>& opt_ins() {
  static std::vector<std::pair<const void*, size_t>> v;
  return v;
}
inline size_t opted_in(const void* fn) {
  std::lock_guard<std::mutex> lk(opt_in_mutex());
  for (const auto& [f, bytes] : opt_ins())
    if (f == fn) return bytes;
  return 0;
}
constexpr size_t kDefaultDynamicShared = 48 * 1024;
constexpr size_t kMaxDynamicShared = 227 * 1024;

}  // namespace ftemu

// The static shared arrays' section: the linker defines its bounds (weak: a module without any is fine).
extern "C" unsigned char __start_ftemu_shared[] __attribute__((weak, visibility("hidden")));
extern "C" unsigned char __stop_ftemu_shared[] __attribute__((weak, visibility("hidden")));

namespace ftemu {

// Refill static shared memory with `byte` (not instrumented: the section may hold AddressSanitizer's
// redzones between the arrays, which only this write may touch).
__attribute__((no_sanitize_address)) inline void fill_static_shared(unsigned char byte) {
  if (__start_ftemu_shared == nullptr || __stop_ftemu_shared == nullptr) return;
  volatile unsigned char* p = __start_ftemu_shared;
  for (; p < __stop_ftemu_shared; ++p) *p = byte;
}

// After a race-checked launch: a word that two blocks wrote, not through atomics, fails the launch.
inline std::string find_race(std::vector<std::pair<uintptr_t, long long>>& writer) {
  std::sort(writer.begin(), writer.end());
  std::vector<uintptr_t> atomics;
  {
    std::lock_guard<std::mutex> lk(atomics_mutex());
    atomics = atomic_words();
  }
  std::sort(atomics.begin(), atomics.end());
  for (size_t i = 1; i < writer.size(); ++i) {
    if (writer[i].first != writer[i - 1].first || writer[i].second == writer[i - 1].second) continue;
    if (std::binary_search(atomics.begin(), atomics.end(), writer[i].first)) continue;
    char addr[32];
    std::snprintf(addr, sizeof addr, "%#llx", (unsigned long long)writer[i].first);
    return "race: blocks " + std::to_string(writer[i - 1].second) + " and " + std::to_string(writer[i].second) +
           " both wrote the word at " + addr + " without an atomic";
  }
  return "";
}

template <class Kernel, class... Args>
void launch(const char* name, Kernel kernel, dim3 grid, dim3 block, size_t smem, Args... args) {
  std::lock_guard<std::mutex> lk(launch_mutex());
  const long long nthreads = (long long)block.x * block.y * block.z;
  if (nthreads < 1 || nthreads > 1024 || grid.x < 1 || grid.y < 1 || grid.z < 1 || grid.y > 65535 || grid.z > 65535 ||
      smem > kMaxDynamicShared) {
    last_error_code() = 9;  // cudaErrorInvalidConfiguration
    last_failure() = std::string("invalid configuration argument (emulated launch of ") + name + ")";
    return;
  }
  if (smem > kDefaultDynamicShared && smem > opted_in(reinterpret_cast<const void*>(kernel))) {
    last_error_code() = 9;
    last_failure() = std::string("invalid configuration argument (emulated launch of ") + name + "): " + std::to_string(smem) +
                     " bytes of dynamic shared memory need cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, " +
                     "bytes) above 48 KB";
    return;
  }
  const Config cfg = config();
  // Race check: snapshot of device memory before each block, last writer of each changed word.
  std::vector<std::pair<unsigned char*, size_t>> regions;
  std::vector<std::vector<unsigned char>> before;
  std::vector<std::pair<uintptr_t, long long>> writer;  // (word, block) pairs, sorted at the end
  if (cfg.race_check) {
    std::lock_guard<std::mutex> lk(alloc_mutex());
    regions = allocations();
    {
      std::lock_guard<std::mutex> la(atomics_mutex());
      atomic_words().clear();
    }
    g_race_checking = true;
  }
  struct RaceGuard {
    bool on;
    ~RaceGuard() {
      if (on) g_race_checking = false;
    }
  } race_guard{cfg.race_check};
  const long long nblocks = (long long)grid.x * grid.y * grid.z;
  for (long long k = 0; k < nblocks; ++k) {
    {
      {
        const long long lin = cfg.reverse_blocks ? nblocks - 1 - k : k;
        const unsigned bx = (unsigned)(lin % grid.x), by = (unsigned)((lin / grid.x) % grid.y), bz = (unsigned)(lin / ((long long)grid.x * grid.y));
        std::unique_ptr<unsigned char[]> shared(smem > 0 ? new unsigned char[smem] : nullptr);
        if (smem > 0) std::memset(shared.get(), cfg.poison ? 0xFF : 0, smem);
        fill_static_shared(cfg.poison ? 0xFF : 0);
        g_dynamic_shared = shared.get();
        const uint32_t seed = cfg.seed * 2654435761u + (bx * 73856093u) + (by * 19349663u) + (bz * 83492791u);
        const dim3 bidx(bx, by, bz);
        const std::function<void(int)> body = [&](int t) {
          threadIdx = dim3((unsigned)t % block.x, ((unsigned)t / block.x) % block.y, (unsigned)t / (block.x * block.y));
          blockIdx = bidx;
          blockDim = block;
          gridDim = grid;
          kernel(args...);
        };
        if (cfg.race_check) {
          before.resize(regions.size());
          for (size_t r = 0; r < regions.size(); ++r) before[r].assign(regions[r].first, regions[r].first + regions[r].second);
        }
        Block blk((int)nthreads, cfg.order, seed, body);
        const std::string fail = blk.run_and_wait();
        g_dynamic_shared = nullptr;
        if (cfg.race_check && fail.empty()) {
          const long long me = ((long long)bz * grid.y + by) * grid.x + bx;
          for (size_t r = 0; r < regions.size(); ++r) {
            const unsigned char* now = regions[r].first;
            for (size_t w = 0; w + 4 <= regions[r].second; w += 4) {
              if (std::memcmp(now + w, before[r].data() + w, 4) != 0) writer.emplace_back(reinterpret_cast<uintptr_t>(now + w), me);
            }
          }
        }
        if (!fail.empty()) {
          last_error_code() = 719;  // cudaErrorLaunchFailure
          last_failure() = std::string("unspecified launch failure: emulated kernel ") + name + " block (" +
                           std::to_string(bx) + "," + std::to_string(by) + "," + std::to_string(bz) + "): " + fail;
          return;
        }
      }
    }
  }
  if (cfg.race_check) {
    const std::string race = find_race(writer);
    if (!race.empty()) {
      last_error_code() = 719;
      last_failure() = std::string("unspecified launch failure: emulated kernel ") + name + ": " + race;
    }
  }
}

template <class T>
T shuffle(unsigned mask, T v, int src_lane, bool valid, const char* what) {
  Block* b = tl_block;
  const int tid = tl_tid, warp = tid / 32, lane = tid % 32;
  const int lanes = std::min(32, b->size() - 32 * warp);
  const unsigned want = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1u);
  if (mask != want) throw std::runtime_error(std::string(what) + ": mask must name exactly the warp's threads");
  (void)lane;
  static_assert(sizeof(T) <= sizeof(uint64_t), "shuffle of a type wider than 8 bytes");
  uint64_t slot = 0;
  std::memcpy(&slot, &v, sizeof(T));
  b->exchange()[tid] = slot;
  b->barrier(1 + warp, what);
  T out = v;
  if (valid && src_lane < lanes) std::memcpy(&out, &b->exchange()[32 * warp + src_lane], sizeof(T));
  b->barrier(1 + warp, what);
  return out;
}


// ---------------------------------------------------------------- warp-wide tensor-core instructions
// mma.sync, ldmatrix and cp.async as the PTX ISA documents them (the fragment layouts of "Matrix Fragments
// for mma.m16n8k16 / m16n8k8" and "ldmatrix"), so kernels/cuda/mma.cuh runs the same fragment code here as
// on sm_80+. A layout the kernel gets wrong gives wrong numbers here too; test/cuda/emu_test.cc `mma` checks
// these emulations against hand-written fragments so that an emulator error cannot cancel a kernel error.

// Every lane of the calling warp posts n words (n ≤ Block::kWideWords); all = [lane][n] once all 32 posted.
inline void warp_gather(const uint32_t* mine, int n, uint32_t* all, const char* what) {
  Block* b = tl_block;
  const int tid = tl_tid, warp = tid / 32;
  if (std::min(32, b->size() - 32 * warp) != 32) throw std::runtime_error(std::string(what) + ": needs a whole warp of 32 threads");
  uint32_t* slots = b->wide();
  std::memcpy(slots + (size_t)tid * Block::kWideWords, mine, (size_t)n * 4);
  b->barrier(1 + warp, what);
  for (int l = 0; l < 32; ++l) std::memcpy(all + l * n, slots + (size_t)(32 * warp + l) * Block::kWideWords, (size_t)n * 4);
  b->barrier(1 + warp, what);
}

inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// The warp's registers of one m16n8 mma gathered: all[lane·10 ..] = a0..a3, b0, b1, c0..c3 (as bits).
inline void mma_gather(const uint32_t* a, const uint32_t* b, const float* c, uint32_t* all, const char* what) {
  uint32_t mine[10];
  for (int i = 0; i < 4; ++i) mine[i] = a[i];
  mine[4] = b[0];
  mine[5] = b[1];
  for (int i = 0; i < 4; ++i) mine[6 + i] = float_bits(c[i]);
  warp_gather(mine, 10, all, what);
}

// This lane's D = A·B + C of an m16n8kK product (C from the gathered words: c0, c1 = C[g][2t..], c2, c3 =
// C[g+8][2t..]); products of the narrow inputs are exact in double, the sum is rounded once to fp32.
template <int K>
inline void mma_result(const double (&A)[16][K], const double (&B)[K][8], const uint32_t* all, float* d) {
  double C[16][8] = {};
  for (int l = 0; l < 32; ++l) {
    const uint32_t* w = all + l * 10;
    const int g = l >> 2, t = l & 3;
    C[g][2 * t] = bits_float(w[6]);
    C[g][2 * t + 1] = bits_float(w[7]);
    C[g + 8][2 * t] = bits_float(w[8]);
    C[g + 8][2 * t + 1] = bits_float(w[9]);
  }
  const int lane = tl_tid % 32, g = lane >> 2, t = lane & 3;
  for (int i = 0; i < 4; ++i) {
    const int row = g + (i >= 2 ? 8 : 0), col = 2 * t + (i & 1);
    double s = C[row][col];
    for (int k = 0; k < K; ++k) s += A[row][k] * B[k][col];
    d[i] = (float)s;
  }
}

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 for one warp: D = A·B + C, A 16×16 row-major, B 16×8
// column-major (two bf16 per register), C/D 16×8 fp32. Hardware rounds its internal sum differently in the
// last bit, so kernels are compared with tolerances, never bitwise, against this.
inline void mma_sync(const uint32_t* a, const uint32_t* b, const float* c, float* d) {
  uint32_t all[32 * 10];
  mma_gather(a, b, c, all, "mma.sync.m16n8k16.bf16");
  double A[16][16] = {}, B[16][8] = {};
  auto half = [](uint32_t r, int hi) { return (double)bits_float((hi ? r >> 16 : r & 0xffffu) << 16); };
  for (int l = 0; l < 32; ++l) {
    const uint32_t* w = all + l * 10;
    const int g = l >> 2, t = l & 3;
    for (int h = 0; h < 2; ++h) {
      A[g][2 * t + h] = half(w[0], h);
      A[g + 8][2 * t + h] = half(w[1], h);
      A[g][2 * t + 8 + h] = half(w[2], h);
      A[g + 8][2 * t + 8 + h] = half(w[3], h);
      B[2 * t + h][g] = half(w[4], h);
      B[2 * t + 8 + h][g] = half(w[5], h);
    }
  }
  mma_result<16>(A, B, all, d);
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 for one warp: A 16×8 row-major, B 8×8 column-major, one
// tf32 per register, of which the tensor core reads the top 19 bits (sign, exponent, 10 mantissa bits): the
// low 13 bits are dropped here as there.
inline void mma_sync_tf32(const uint32_t* a, const uint32_t* b, const float* c, float* d) {
  uint32_t all[32 * 10];
  mma_gather(a, b, c, all, "mma.sync.m16n8k8.tf32");
  double A[16][8] = {}, B[8][8] = {};
  auto tf32 = [](uint32_t r) { return (double)bits_float(r & 0xffffe000u); };
  for (int l = 0; l < 32; ++l) {
    const uint32_t* w = all + l * 10;
    const int g = l >> 2, t = l & 3;
    A[g][t] = tf32(w[0]);
    A[g + 8][t] = tf32(w[1]);
    A[g][t + 4] = tf32(w[2]);
    A[g + 8][t + 4] = tf32(w[3]);
    B[t][g] = tf32(w[4]);
    B[t + 4][g] = tf32(w[5]);
  }
  mma_result<8>(A, B, all, d);
}

// ldmatrix.sync.aligned.m8n8.x{num}{.trans}.shared.b16: lanes 8j..8j+7 give the 16-byte rows of matrix j;
// lane l receives in out[j] row l/4, columns 2(l%4) and 2(l%4)+1 of matrix j (transposed: column l/4 of
// rows 2(l%4) and 2(l%4)+1), the lower column (row) in the low half.
inline void ldmatrix(int num, bool trans, const void* row, uint32_t* out) {
  if (reinterpret_cast<uintptr_t>(row) % 16 != 0 && tl_tid % 32 < 8 * num) {
    throw std::runtime_error("ldmatrix: a row address is not 16-byte aligned");
  }
  uint32_t mine[2], all[64];
  const uint64_t p = reinterpret_cast<uintptr_t>(row);
  std::memcpy(mine, &p, 8);
  warp_gather(mine, 2, all, "ldmatrix");
  auto row_of = [&](int lane) {
    uint64_t q;
    std::memcpy(&q, all + 2 * lane, 8);
    return reinterpret_cast<const uint16_t*>(static_cast<uintptr_t>(q));
  };
  const int lane = tl_tid % 32, g = lane >> 2, t = lane & 3;
  for (int j = 0; j < num; ++j) {
    uint16_t lo, hi;
    if (!trans) {
      std::memcpy(&lo, row_of(8 * j + g) + 2 * t, 2);
      std::memcpy(&hi, row_of(8 * j + g) + 2 * t + 1, 2);
    } else {
      std::memcpy(&lo, row_of(8 * j + 2 * t) + g, 2);
      std::memcpy(&hi, row_of(8 * j + 2 * t + 1) + g, 2);
    }
    out[j] = (uint32_t)lo | ((uint32_t)hi << 16);
  }
}

// cp.async.cg.shared.global: queued, and carried out only when cp.async.wait_group releases its group, so a
// kernel that reads the destination before waiting reads what was there before (poison at block start).
// src_bytes < bytes zero-fills the rest, as the instruction's src-size operand does.
inline void cp_async(void* dst, const void* src, int bytes, int src_bytes) {
  if ((bytes != 4 && bytes != 8 && bytes != 16) || src_bytes < 0 || src_bytes > bytes) {
    throw std::runtime_error("cp.async: size must be 4, 8 or 16 bytes and src-size at most that");
  }
  if (reinterpret_cast<uintptr_t>(dst) % bytes != 0 || (src_bytes > 0 && reinterpret_cast<uintptr_t>(src) % bytes != 0)) {
    throw std::runtime_error("cp.async: addresses must be aligned to the copy size");
  }
  if (src_bytes < bytes) {
    // The zero-filled part is part of the copy: it also lands only at the wait.
    auto& st = tl_block->async_of(tl_tid);
    static const unsigned char zeros[16] = {};
    if (src_bytes > 0) st.pending.push_back({dst, src, src_bytes, -1});
    st.pending.push_back({static_cast<unsigned char*>(dst) + src_bytes, zeros, bytes - src_bytes, -1});
    return;
  }
  tl_block->async_of(tl_tid).pending.push_back({dst, src, bytes, -1});
}
inline void cp_async_commit() {
  auto& st = tl_block->async_of(tl_tid);
  for (auto& c : st.pending)
    if (c.group < 0) c.group = st.committed;
  ++st.committed;
}
// Completes every committed group except the newest n.
inline void cp_async_wait(int n) {
  auto& st = tl_block->async_of(tl_tid);
  std::vector<Block::AsyncCopy> keep;
  for (auto& c : st.pending) {
    if (c.group >= 0 && c.group < st.committed - n) std::memcpy(c.dst, c.src, (size_t)c.bytes);
    else keep.push_back(c);
  }
  st.pending.swap(keep);
}

}  // namespace ftemu

// ---------------------------------------------------------------- intrinsics
inline void __syncthreads() { ftemu::tl_block->barrier(0, "__syncthreads"); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  (void)mask;
  ftemu::tl_block->barrier(1 + ftemu::tl_tid / 32, "__syncwarp");
}

template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  const int lane = ftemu::tl_tid % 32;
  const int src = lane ^ lane_mask;
  const bool valid = (src / width) == (lane / width);
  return ftemu::shuffle(mask, v, src, valid, "__shfl_xor_sync");
}

template <class T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const int lane = ftemu::tl_tid % 32;
  const int src = lane + (int)delta;
  const bool valid = (src / width) == (lane / width);
  return ftemu::shuffle(mask, v, src, valid, "__shfl_down_sync");
}

template <class T>
inline T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32) {
  const int lane = ftemu::tl_tid % 32;
  const int src = (lane / width) * width + (src_lane % width);
  return ftemu::shuffle(mask, v, src, true, "__shfl_sync");
}

inline float atomicAdd(float* addr, float v) {
  ftemu::note_atomic(addr);
  return std::atomic_ref<float>(*addr).fetch_add(v);
}
inline double atomicAdd(double* addr, double v) {
  ftemu::note_atomic(addr);
  ftemu::note_atomic(reinterpret_cast<unsigned char*>(addr) + 4);
  return std::atomic_ref<double>(*addr).fetch_add(v);
}
inline int atomicAdd(int* addr, int v) {
  ftemu::note_atomic(addr);
  return std::atomic_ref<int>(*addr).fetch_add(v);
}
inline unsigned atomicAdd(unsigned* addr, unsigned v) {
  ftemu::note_atomic(addr);
  return std::atomic_ref<unsigned>(*addr).fetch_add(v);
}

inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
// CUDA's device math declares isfinite / isnan at global scope; C++ has them in std.
using std::isfinite;
using std::isnan;
inline float __fdividef(float a, float b) { return a / b; }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((uint64_t)a * b) >> 32); }
inline void sincosf_emu(float x, float* s, float* c) {
  *s = std::sin(x);
  *c = std::cos(x);
}
#define sincosf sincosf_emu

// ---------------------------------------------------------------- runtime API subset
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorLaunchFailure = 719,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
using cudaStream_t = void*;

inline cudaError_t cudaMalloc(void** p, size_t bytes) {
  *p = std::malloc(bytes > 0 ? bytes : 1);
  if (!*p) return cudaErrorMemoryAllocation;
  std::lock_guard<std::mutex> lk(ftemu::alloc_mutex());
  ftemu::allocations().emplace_back(static_cast<unsigned char*>(*p), bytes);
  return cudaSuccess;
}
// Page-locked host memory is ordinary host memory here.
inline cudaError_t cudaMallocHost(void** p, size_t bytes) {
  *p = std::malloc(bytes > 0 ? bytes : 1);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
inline cudaError_t cudaFreeHost(void* p) {
  std::free(p);
  return cudaSuccess;
}
inline cudaError_t cudaFree(void* p) {
  {
    std::lock_guard<std::mutex> lk(ftemu::alloc_mutex());
    auto& a = ftemu::allocations();
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].first == p) {
        a[i] = a.back();
        a.pop_back();
        break;
      }
  }
  std::free(p);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t = nullptr) {
  return cudaMemcpy(dst, src, bytes, kind);
}
// Launches run to completion when they are made, so a stream is always idle (and only a handle).
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamCreate(cudaStream_t* s) {
  *s = nullptr;
  return cudaSuccess;
}
inline cudaError_t cudaMemset(void* p, int v, size_t bytes) {
  if (bytes) std::memset(p, v, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* p, int v, size_t bytes, cudaStream_t = nullptr) {
  // As on hardware, a null device pointer is an error, not a crash.
  if (p == nullptr && bytes > 0) return cudaErrorInvalidValue;
  return cudaMemset(p, v, bytes);
}
inline cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
template <class Fn>
inline cudaError_t cudaFuncSetAttribute(Fn* fn, cudaFuncAttribute attr, int value) {
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || (size_t)value > ftemu::kMaxDynamicShared) return cudaErrorInvalidValue;
  std::lock_guard<std::mutex> lk(ftemu::opt_in_mutex());
  for (auto& e : ftemu::opt_ins())
    if (e.first == reinterpret_cast<const void*>(fn)) {
      e.second = (size_t)value;
      return cudaSuccess;
    }
  ftemu::opt_ins().emplace_back(reinterpret_cast<const void*>(fn), (size_t)value);
  return cudaSuccess;
}
inline cudaError_t cudaGetLastError() {
  const int e = ftemu::last_error_code();
  ftemu::last_error_code() = 0;
  return (cudaError_t)e;
}
inline cudaError_t cudaPeekAtLastError() { return (cudaError_t)ftemu::last_error_code(); }
inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration:
    case cudaErrorLaunchFailure: return ftemu::last_failure().c_str();
  }
  return "unknown error";
}
