// Every wrapper of kernels/cuda/mma.cuh instantiated once, so that nvcc and ptxas check the inline PTX of the
// ones no kernel uses yet (ldmatrix .trans, cp.async) as well (test/cuda/cuda-check.test.ts). Never launched.
#include "../../kernels/cuda/mma.cuh"
__global__ void mma_wrappers_kernel(uint32_t* out) {
  __shared__ __align__(16) uint16_t sm[4 * 8 * 8];
  for (int i = threadIdx.x; i < 256; i += 32) sm[i] = (uint16_t)i;
  __syncthreads();
  uint32_t r[4];
  ftc::ldmatrix_x4<true>(r, sm + (threadIdx.x % 32) * 8);
  uint32_t a[4] = {r[0], r[1], r[2], r[3]}, b[2] = {r[0], r[1]};
  float c[4] = {0, 0, 0, 0};
  ftc::mma_bf16_16816(c, a, b, c);
  ftc::cp_async16(sm, out, 16);
  ftc::cp_async_commit();
  ftc::cp_async_wait<0>();
  for (int j = 0; j < 4; ++j) out[threadIdx.x * 4 + j] = r[j] + (uint32_t)c[j];
}
