// The one launch macro and the few portability macros the kernels use, so that the same .cu sources
// compile with nvcc (real GPU code) and with g++ through cuda_emu.h (when FT_CUDA_EMU is defined) (one std::thread per CUDA thread,
// see cuda_emu.h). Kernels never write `<<<…>>>` or `extern __shared__` themselves:
//   FT_LAUNCH(kernel, grid, block, smemBytes, args...)  → kernel<<<grid, block, smemBytes>>>(args...)
//   FT_DYNAMIC_SHARED(float, smem)                      → extern __shared__ float smem[]
// (a macro because the emulator must hand each block an exactly sized heap allocation instead, so that
// AddressSanitizer sees an out-of-bounds shared-memory index).
#pragma once

#if defined(__CUDACC__)
#include <cuda_runtime.h>
#define FT_LAUNCH(kernel, grid, block, smem, ...) kernel<<<(grid), (block), (smem)>>>(__VA_ARGS__)
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
