// CUDA emulation for g++: lets the .cu kernels of kernels/cuda run on the CPU, unchanged, so that a machine
// without a GPU (this project's CI) still executes every kernel and compares it with the reference backend.
//
// Model (DESIGN.md section 7): blocks run one after another; inside a block every CUDA thread has its own
// stack (a fiber, see "fibers" below), and only ONE of them runs at a time. A thread runs until it reaches a
// barrier (__syncthreads, or the per-warp barrier inside a shuffle) or returns, then hands over to the next
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
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>
#include <sys/mman.h>
#if defined(__SANITIZE_ADDRESS__)
#define FTEMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FTEMU_ASAN 1
#endif
#endif

// Fibers (see below): x86-64 (System V) switches in a dozen instructions of its own; elsewhere, or with
// -DFTEMU_UCONTEXT (to test that path here), glibc's swapcontext, which also saves the signal mask (a system
// call per switch).
#if defined(__x86_64__) && !defined(FTEMU_UCONTEXT)
#define FTEMU_ASM_SWITCH 1
#endif

#if defined(FTEMU_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if !defined(FTEMU_ASM_SWITCH)
#include <ucontext.h>
#endif

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

// ---------------------------------------------------------------- fibers
// Every CUDA thread of a block runs on a fiber: a stack of its own on the launching OS thread, entered and
// left by a user-space stack switch. A hand-off at a barrier is then a few dozen instructions, where handing
// a token between OS threads cost two futex round trips and, on a loaded 2-core CI machine, a wait for the
// scheduler each time (an emulated mma.sync is 64 hand-offs, so the tensor-core kernels crawled). One OS
// thread also means no scheduler between the threads: the cooperative order above is the only order.

// A saved execution context, and the bounds of its stack for AddressSanitizer's fiber annotations (without
// them ASan would take a throw on a fiber stack for a corrupt stack).
struct Context {
#if defined(FTEMU_ASM_SWITCH)
  void* sp = nullptr;
#else
  ucontext_t uc{};
#endif
  const void* stack_bottom = nullptr;
  size_t stack_size = 0;
  void* fake_stack = nullptr;
};

}  // namespace ftemu

#if defined(FTEMU_ASM_SWITCH)
// ftemu_switch(from, to): push the callee-saved registers, MXCSR and the x87 control word, store the stack
// pointer in *from, load `to`, pop the same from there and return into the target. ftemu_fiber_start is
// where a fresh fiber's first switch returns to: it calls entry(arg) from r13/r12, set up by make_context.
// The symbols live in a COMDAT group so that every translation unit that includes this header may emit them.
extern "C" void ftemu_switch(void** from, void* to);
extern "C" void ftemu_fiber_start();
asm(R"(
  .pushsection .text.ftemu_switch,"axG",@progbits,ftemu_switch,comdat
  .weak ftemu_switch
  .hidden ftemu_switch
  .type ftemu_switch,@function
ftemu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size ftemu_switch, .-ftemu_switch
  .weak ftemu_fiber_start
  .hidden ftemu_fiber_start
  .type ftemu_fiber_start,@function
ftemu_fiber_start:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size ftemu_fiber_start, .-ftemu_fiber_start
  .popsection
)");
#endif

namespace ftemu {

// The context the running fiber was entered from: the landing side of a switch records its stack bounds
// (ASan reports them), which is how the launcher's own stack becomes known.
inline thread_local Context* tl_switched_from = nullptr;

inline void landed([[maybe_unused]] void* fake_stack) {
#if defined(FTEMU_ASAN)
  const void* bottom = nullptr;
  size_t size = 0;
  __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
  if (tl_switched_from != nullptr) {
    tl_switched_from->stack_bottom = bottom;
    tl_switched_from->stack_size = size;
  }
#endif
}

inline void switch_context(Context& from, Context& to) {
#if defined(FTEMU_ASAN)
  __sanitizer_start_switch_fiber(&from.fake_stack, to.stack_bottom, to.stack_size);
#endif
  tl_switched_from = &from;
#if defined(FTEMU_ASM_SWITCH)
  ftemu_switch(&from.sp, to.sp);
#else
  if (swapcontext(&from.uc, &to.uc) != 0) throw std::runtime_error("emulator: swapcontext failed");
#endif
  landed(from.fake_stack);
}

#if !defined(FTEMU_ASM_SWITCH)
// makecontext passes int arguments only: the fiber's argument travels through here.
inline thread_local void* tl_fiber_arg = nullptr;
inline thread_local void (*tl_fiber_entry)(void*) = nullptr;
inline void ucontext_entry() { tl_fiber_entry(tl_fiber_arg); }
#endif

// A context that starts entry(arg) on [stack, stack + size) at its first switch; entry never returns.
inline void make_context(Context& c, void* stack, size_t size, void (*entry)(void*), void* arg) {
  c.stack_bottom = stack;
  c.stack_size = size;
#if defined(FTEMU_ASM_SWITCH)
  // The frame ftemu_switch pops: control words, r15, r14, r13 = entry, r12 = arg, rbx, rbp = 0 (ends the
  // frame-pointer chain), return address = ftemu_fiber_start. Above it the stack is 16-byte aligned, as
  // the call in ftemu_fiber_start needs.
  uintptr_t top = (reinterpret_cast<uintptr_t>(stack) + size - 64) & ~(uintptr_t)15;
  uint64_t* s = reinterpret_cast<uint64_t*>(top);
  *--s = reinterpret_cast<uint64_t>(&ftemu_fiber_start);
  *--s = 0;                                         // rbp
  *--s = 0;                                         // rbx
  *--s = reinterpret_cast<uint64_t>(arg);           // r12
  *--s = reinterpret_cast<uint64_t>(entry);         // r13
  *--s = 0;                                         // r14
  *--s = 0;                                         // r15
  *--s = 0x1F80ull | (0x037Full << 32);             // MXCSR (round to nearest, denormals kept), x87 control
  c.sp = s;
#else
  if (getcontext(&c.uc) != 0) throw std::runtime_error("emulator: getcontext failed");
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = size;
  c.uc.uc_link = nullptr;
  // The entry and argument are read at the fiber's first switch, which follows at once (one launch at a time).
  tl_fiber_entry = entry;
  tl_fiber_arg = arg;
  makecontext(&c.uc, ucontext_entry, 0);
#endif
}

// A fiber that runs CUDA threads. A CUDA thread that has not started has no stack yet, so any idle fiber
// (or the fiber whose thread just returned) may start it; only a thread parked at a barrier is tied to its
// fiber. Barrier-free kernels therefore run without any switch.
struct Fiber {
  Context ctx;
  void* map = nullptr;
  size_t map_size = 0;
  Block* block = nullptr;
  int tid = -1;  // the CUDA thread to start when next entered
};

inline void fiber_main(void* arg);

// Fibers and their stacks, made on demand and kept for later launches. One pool per OS thread: a fiber never
// moves to another thread, since code compiled for a shared library may keep a thread-local variable's address
// (tl_block, threadIdx) in a register across the switch. 1 MiB of address space per stack, touched pages only,
// with a guard page below (a GPU thread's stack is 1 KiB by default: cudaLimitStackSize).
class FiberPool {
 public:
  static constexpr size_t kStack = size_t(1) << 20;
  static constexpr size_t kGuard = 4096;
  static FiberPool& get() {
    thread_local FiberPool p;
    return p;
  }
  ~FiberPool() {
    for (auto& f : all_) munmap(f->map, f->map_size);
  }
  Fiber* take_idle() {
    if (!idle_.empty()) {
      Fiber* f = idle_.back();
      idle_.pop_back();
      return f;
    }
    auto f = std::make_unique<Fiber>();
    f->map_size = kStack + kGuard;
    f->map = mmap(nullptr, f->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (f->map == MAP_FAILED) throw std::runtime_error("emulator: cannot map a fiber stack");
    mprotect(f->map, kGuard, PROT_NONE);  // a stack overflow faults instead of writing into a neighbour
    make_context(f->ctx, static_cast<unsigned char*>(f->map) + kGuard, kStack, fiber_main, f.get());
    all_.push_back(std::move(f));
    return all_.back().get();
  }
  void give_back(Fiber* f) { idle_.push_back(f); }

 private:
  std::vector<std::unique_ptr<Fiber>> all_;
  std::vector<Fiber*> idle_;
};


// One cooperative schedule: the state of a block's threads and barriers.
class Block {
 public:
  Block(dim3 shape, Order order, uint32_t seed, const std::function<void(int)>& body)
      : n_((int)(shape.x * shape.y * shape.z)), shape_(shape), order_(order), rng_(seed ? seed : 1), body_(body), state_(n_, kReady),
        waiting_on_(n_, -1), what_(n_, nullptr), fiber_(n_, nullptr), xchg_(n_), wide_((size_t)n_ * kWideWords), async_(n_) {
    const int warps = (n_ + 31) / 32;
    expected_.push_back(n_);  // barrier 0: the block; 1 + w: warp w
    for (int w = 0; w < warps; ++w) expected_.push_back(std::min(32, n_ - 32 * w));
    arrived_.assign(expected_.size(), 0);
    std::vector<int> all(n_);
    for (int i = 0; i < n_; ++i) all[i] = i;
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

  // What runs next: this thread again, a fresh thread, a parked one, or (all ended) the launcher.
  struct Step {
    enum Kind { kKeep, kStart, kResume, kFinished, kNone } kind = kNone;
    int tid = -1;
  };

  // The running thread waits at barrier `bar` until every member arrived.
  void barrier(int bar, const char* what) {
    const int me = tl_tid;
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
    const Step step = next(me);
    // A deadlock found here: this thread unwinds first, then run_threads resumes the parked ones one by one.
    if (aborted_) throw Abort{};
    if (step.kind == Step::kKeep) {
      state_[me] = kRunning;
      return;
    }
    transfer(step, fiber_[me]->ctx);
    // Resumed: the fiber's CUDA thread is `me` again.
    tl_block = this;
    tl_tid = me;
    threadIdx = index_of(me);
    if (aborted_) throw Abort{};
  }

  // On fiber f: runs CUDA threads, f->tid first, while the next one to run is a fresh thread (it starts on
  // this same fiber); returns the step that says where f hands over once its last thread returned.
  Step run_threads(Fiber* f) {
    int tid = f->tid;
    for (;;) {
      tl_block = this;
      tl_tid = tid;
      {
        std::exception_ptr err;
        try {
          body_(tid);
        } catch (const Abort&) {
        } catch (...) {
          err = std::current_exception();
        }
        state_[tid] = kDone;
        if (err) {
          if (!error_) error_ = err;
          aborted_ = true;
        }
      }
      const Step step = next(-1);
      if (step.kind != Step::kStart) return step;
      state_[step.tid] = kRunning;
      fiber_[step.tid] = f;
      tid = step.tid;
    }
  }

  // The launcher: run the block's threads on fibers, return "" or the failure once every one has ended.
  std::string run_and_wait() {
    transfer(next(-1), launcher_);
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

  // Switches from `from` to where `s` says. Touches nothing of this block once the switch is made: an idle
  // fiber parked here is next entered for a later block, after this one is gone.
  void transfer(const Step& s, Context& from) {
    Context* to = nullptr;
    if (s.kind == Step::kStart) {
      Fiber* f = FiberPool::get().take_idle();
      f->block = this;
      f->tid = s.tid;
      state_[s.tid] = kRunning;
      fiber_[s.tid] = f;
      to = &f->ctx;
    } else if (s.kind == Step::kResume) {
      if (aborted_) state_[s.tid] = kAborting;  // it wakes only to unwind
      to = &fiber_[s.tid]->ctx;
    } else {
      // kFinished; anything else would be a scheduler bug: report it rather than leave the launcher waiting.
      if (s.kind != Step::kFinished && failure_.empty()) failure_ = "emulator: no thread left to run (internal error)";
      to = &launcher_;
    }
    switch_context(from, *to);
  }

 private:
  enum : int { kReady = 0, kWaiting = 1, kDone = 2, kRunning = 3, kAborting = 4 };

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

  // Decides who runs next. `me` is the thread arriving at a barrier, or -1.
  Step next(int me) {
    Step s;
    if (!aborted_) {
      while (queue_head_ < queue_.size()) {
        const int t = queue_[queue_head_++];
        if (state_[t] != kReady) continue;
        if (t == me) {
          s.kind = Step::kKeep;
          return s;
        }
        s.tid = t;
        if (fiber_[t] == nullptr) {
          s.kind = Step::kStart;
        } else {
          state_[t] = kRunning;
          s.kind = Step::kResume;
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
      // Threads never started are simply done; a parked one is resumed to unwind (one at a time: each, once
      // unwound, comes back here for the next).
      for (int t = 0; t < n_; ++t)
        if (state_[t] == kReady && fiber_[t] == nullptr) state_[t] = kDone;
      for (int t = 0; t < n_; ++t) {
        if ((state_[t] == kWaiting || state_[t] == kReady) && t != me) {
          s.kind = Step::kResume;
          s.tid = t;
          return s;
        }
      }
    }
    if (all_done() && !signalled_) {
      signalled_ = true;
      s.kind = Step::kFinished;
    }
    return s;
  }

  dim3 index_of(int t) const {
    return dim3((unsigned)t % shape_.x, ((unsigned)t / shape_.x) % shape_.y, (unsigned)t / (shape_.x * shape_.y));
  }

  int n_;
  dim3 shape_;
  Order order_;
  uint32_t rng_;
  const std::function<void(int)>& body_;
  std::vector<int> state_;
  std::vector<int> waiting_on_;
  std::vector<const char*> what_;
  std::vector<Fiber*> fiber_;  // the fiber a started thread runs on
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
  Context launcher_;  // where the launching OS thread waits while the block runs
};

// A fiber's whole life: run the threads it is given, park idle, and run again when a later start enters it.
inline void fiber_main(void* arg) {
  Fiber* f = static_cast<Fiber*>(arg);
  landed(nullptr);
  for (;;) {
    Block* b = f->block;
    const Block::Step s = b->run_threads(f);
    FiberPool::get().give_back(f);
    b->transfer(s, f->ctx);
  }
}

inline std::mutex& launch_mutex() {
  static std::mutex m;
  return m;
}

// Accepted launches per kernel name (the FT_LAUNCH spelling): lets tests check what a launcher launches, e.g.
// that a cached table is built once. Read and reset under launch_mutex() by callers between launches.
inline std::map<std::string, long long>& launch_counts() {
  static std::map<std::string, long long> m;
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
  ++launch_counts()[name];
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
        Block blk(block, cfg.order, seed, body);
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
