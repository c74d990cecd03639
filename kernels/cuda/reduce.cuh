// Warp and block reductions shared by the norm, loss and optimiser kernels: warp shuffles inside a warp,
// one shared slot per warp across the block. blockDim.x must be a multiple of 32 (full-warp masks).
#pragma once
#include "launch.h"

namespace ftc {

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FT_FULL_MASK, v, o);
  return v;
}

__device__ __forceinline__ double warp_sum_d(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FT_FULL_MASK, v, o);
  return v;
}

// Sum of v over the block, returned to every thread. `scratch` holds at least 32 floats of shared memory.
// Called by every thread of the block (it contains __syncthreads).
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float t = lane < warps ? scratch[lane] : 0.0f;
    t = warp_sum(t);
    if (lane == 0) scratch[0] = t;
  }
  __syncthreads();
  const float total = scratch[0];
  __syncthreads();  // scratch may be reused by the caller's next reduction
  return total;
}

__device__ __forceinline__ double block_sum_d(double v, double* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_sum_d(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    double t = lane < warps ? scratch[lane] : 0.0;
    t = warp_sum_d(t);
    if (lane == 0) scratch[0] = t;
  }
  __syncthreads();
  const double total = scratch[0];
  __syncthreads();
  return total;
}

}  // namespace ftc
