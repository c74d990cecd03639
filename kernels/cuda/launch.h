// The one launch macro and the few portability macros the kernels use, so that the same .cu sources
// compile with nvcc (real GPU code) and with g++ through cuda_emu.h (when FT_CUDA_EMU is defined) (one fiber per CUDA thread,
// see cuda_emu.h). Kernels never write `<<<…>>>` or `extern __shared__` themselves:
//   FT_LAUNCH(kernel, grid, block, smemBytes, args...)  → kernel<<<grid, block, smemBytes>>>(args...)
//   FT_DYNAMIC_SHARED(float, smem)                      → extern __shared__ float smem[]
// (a macro because the emulator must hand each block an exactly sized heap allocation instead, so that
// AddressSanitizer sees an out-of-bounds shared-memory index).
#pragma once

#if defined(__CUDACC__)
#include <cuda_runtime.h>
#define FT_LAUNCH(kernel, grid, block, smem, ...) kernel<<<(grid), (block), (smem), ::ftc::stream()>>>(__VA_ARGS__)
#define FT_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#define FT_EMULATED 0
#elif defined(FT_CUDA_EMU)
#include "cuda_emu.h"
#define FT_LAUNCH(kernel, grid, block, smem, ...) \
  ::ftemu::launch(#kernel, kernel, dim3(grid), dim3(block), (size_t)(smem), __VA_ARGS__)
#define FT_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(::ftemu::dynamic_shared())
#define FT_EMULATED 1
#else
// Host code of the real addon (native/cuda glue, compiled by the host compiler): the runtime API only.
#include <cuda_runtime.h>
#define FT_EMULATED 0
#endif

#define FT_FULL_MASK 0xffffffffu

// Grid-stride loops, the shape of every elementwise and row-wise kernel: a bounded grid whose threads stride
// over n elements, so any n runs with one launch configuration.
#define FT_GRID_STRIDE(i, n) \
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

namespace ftc {

// The stream every launch, copy and memset of the engine goes on: one non-default stream, created on first
// use (so that loading the addon on a machine without a driver creates nothing). It is a blocking stream:
// work that other code puts on the legacy default stream (PyTorch's, in the GPU check; cudaMalloc's) stays
// ordered with it. Under emulation a launch runs when it is made, and the stream is only a handle.
inline cudaStream_t stream() {
  static const cudaStream_t s = [] {
    cudaStream_t created = nullptr;
    if (cudaStreamCreate(&created) != cudaSuccess) {
      (void)cudaGetLastError();  // no device: the default stream then, and the launch reports the real error
      created = nullptr;
    }
    return created;
  }();
  return s;
}

// Threads per block of the grid-stride kernels.
constexpr int kGridThreads = 256;

// A launcher returns void and the glue checks cudaGetLastError after it, which does not report a failed
// cudaMemsetAsync: its result is kept here until the glue's check takes it (take_pending_error).
inline cudaError_t& pending_error() {
  static cudaError_t e = cudaSuccess;
  return e;
}
inline void zero_async(void* p, size_t bytes) {
  const cudaError_t e = cudaMemsetAsync(p, 0, bytes, stream());
  if (e != cudaSuccess && pending_error() == cudaSuccess) pending_error() = e;
}
inline cudaError_t take_pending_error() {
  const cudaError_t e = pending_error();
  pending_error() = cudaSuccess;
  return e;
}

// Precision of the GEMMs (linear layers, patch embedding): fp32 on CUDA cores; bf16 operands with fp32
// accumulation on tensor cores (and the attention on tensor cores too); or tf32 operands (fp32 rounded to 10
// mantissa bits, as PyTorch's allow_tf32) with fp32 accumulation on tensor cores, attention staying fp32.
// Both tensor-core modes need sm_80 or later (the glue refuses them on older devices, see
// tensor_cores_available). Process-wide, like the CPU backend's mode; set by the addon's setComputeMode.
enum class ComputeMode { Fp32, Bf16, Tf32 };
inline ComputeMode& compute_mode() {
  static ComputeMode m = ComputeMode::Fp32;
  return m;
}

// Whether the current device has the mma.sync bf16 instructions (compute capability 8.0 or higher). The
// emulator implements them, so it reports true.
inline bool tensor_cores_available() {
#if FT_EMULATED
  return true;
#else
  int dev = 0, major = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) return false;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) return false;
  return major >= 8;
#endif
}

// Streaming multiprocessors of the current device (1 when it cannot be asked: then no choice assumes a wide
// GPU). The emulator reports an H100/H200's 132, so that size-based choices match the GPUs this code targets.
inline int multiprocessor_count() {
#if FT_EMULATED
  return 132;
#else
  static const int n = [] {
    int dev = 0, count = 0;
    if (cudaGetDevice(&dev) != cudaSuccess) return 1;
    if (cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess || count < 1) return 1;
    return count;
  }();
  return n;
#endif
}

// Device scratch of a deterministic grid reduction (reduce.cuh last_block_total): up to `blocks` partials of
// T and a zeroed counter, allocated once per call site (`static GridSumScratch<T> s;`) and kept; an
// allocation failure is left for the op's check (pending_error) and returns false.
template <class T>
struct GridSumScratch {
  T* partials = nullptr;
  unsigned* done = nullptr;
  bool ensure(long long blocks) {
    if (partials != nullptr) return true;
    void* p = nullptr;
    void* d = nullptr;
    cudaError_t e = cudaMalloc(&p, (size_t)blocks * sizeof(T));
    if (e == cudaSuccess) e = cudaMalloc(&d, sizeof(unsigned));
    if (e == cudaSuccess) e = cudaMemsetAsync(d, 0, sizeof(unsigned), stream());
    if (e != cudaSuccess) {
      if (pending_error() == cudaSuccess) pending_error() = e;
      if (p) cudaFree(p);
      if (d) cudaFree(d);
      return false;
    }
    partials = static_cast<T*>(p);
    done = static_cast<unsigned*>(d);
    return true;
  }
};

// Blocks for a grid-stride loop over n elements: enough to cover n at one element per thread, at least one,
// at most max_blocks (the loop covers the rest).
inline unsigned blocks_for(long long n, long long max_blocks = 4096, int threads = kGridThreads) {
  const long long b = (n + threads - 1) / threads;
  return (unsigned)(b < max_blocks ? (b < 1 ? 1 : b) : max_blocks);
}

}  // namespace ftc
