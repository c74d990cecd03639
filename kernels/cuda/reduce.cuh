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

// Column sums over the rows of a row-major matrix (bias, RMSNorm-scale and LayerNorm parameter gradients):
// a block of COL_SUM_THREADS owns COL_SUM_COLS adjacent columns; lane = column, warp w = row group taking
// rows w, w + COL_SUM_GROUPS, … (a warp reads 128 contiguous bytes of one row). The groups' partial sums
// are then added in group order by warp 0: a fixed order, so the result is deterministic without atomics,
// with COL_SUM_GROUPS times the parallelism of one thread per column walking every row.
constexpr int COL_SUM_COLS = 32, COL_SUM_GROUPS = 16, COL_SUM_THREADS = COL_SUM_COLS * COL_SUM_GROUPS;

// v[s] of every thread → in warp 0, the sum over the row groups of v[s] for its column (other warps keep
// their partials). Called by every thread of the block (it contains __syncthreads).
template <int NS>
__device__ __forceinline__ void sum_row_groups(float (&v)[NS]) {
  __shared__ float part[NS][COL_SUM_GROUPS][COL_SUM_COLS];
  const int lane = threadIdx.x % COL_SUM_COLS, group = threadIdx.x / COL_SUM_COLS;
#pragma unroll
  for (int s = 0; s < NS; ++s) part[s][group][lane] = v[s];
  __syncthreads();
  if (group == 0) {
#pragma unroll
    for (int s = 0; s < NS; ++s) {
      float t = 0.0f;
      for (int g = 0; g < COL_SUM_GROUPS; ++g) t += part[s][g][lane];
      v[s] = t;
    }
  }
}

inline unsigned col_sum_blocks(long long cols) { return (unsigned)((cols + COL_SUM_COLS - 1) / COL_SUM_COLS); }

// Deterministic sum over the blocks of a grid of one value per block (thread 0's, already block-reduced): each
// block stores it in partials[blockIdx.x]; the last block to finish (counted on *done) adds them in block order,
// so the total does not depend on the order the hardware ran the blocks in (an atomicAdd per block would).
// Returns true in thread 0 of the last block, with the total; that thread also resets *done for the next launch.
// partials holds gridDim.x values and *done starts at 0 (launch.h GridSumScratch allocates both).
template <class T>
__device__ __forceinline__ bool last_block_total(T block_value, T* partials, unsigned* done, T* total) {
  __shared__ int last;
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = block_value;
    __threadfence();  // the partial is visible device-wide before the block is counted
    last = atomicAdd(done, 1u) == gridDim.x - 1 ? 1 : 0;
  }
  __syncthreads();
  if (!last || threadIdx.x != 0) return false;
  __threadfence();
  const volatile T* vp = partials;  // written by other blocks: read past this SM's L1
  T sum = 0;
  for (unsigned b = 0; b < gridDim.x; ++b) sum += vp[b];
  *total = sum;
  *done = 0;
  return true;
}

}  // namespace ftc
