// Tensor-core building blocks, one spelling for both compilers: on nvcc (sm_80 and later) each is the PTX
// instruction itself; through cuda_emu.h it is the emulation of that instruction with the same fragment
// layout (cuda_emu.h ftemu::mma_sync, ldmatrix, cp_async). Below sm_80 the bodies compile to a trap: the
// host only launches tensor-core kernels on devices that report compute capability 8.0 or higher.
//
// Fragment layouts (PTX ISA, "Matrix Fragments for mma.m16n8k16" with .bf16), with g = lane / 4, t = lane % 4:
//   A 16×16 row-major: a0 = A[g][2t..2t+1], a1 = A[g+8][2t..], a2 = A[g][2t+8..], a3 = A[g+8][2t+8..]
//   B 16×8 col-major:  b0 = B[2t..2t+1][g], b1 = B[2t+8..2t+9][g]
//   C/D 16×8 fp32:     c0, c1 = C[g][2t], C[g][2t+1]; c2, c3 = C[g+8][2t], C[g+8][2t+1]
// Each 32-bit register holds two bf16, the lower index in the low half.
#pragma once
#include <stdint.h>

#include "launch.h"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#define FT_TENSOR_CORES 1
#else
#define FT_TENSOR_CORES 0
#endif

namespace ftc {

// fp32 → bf16 bits, rounded to nearest even as cvt.rn.bf16.f32 does (a NaN stays a quiet NaN). Bit
// arithmetic rather than the intrinsic, so the host reference and the emulator round identically.
__host__ __device__ __forceinline__ uint32_t bf16_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

// f rounded to bf16 (as bf16_bits), returned as the float it represents.
__host__ __device__ __forceinline__ float bf16_round(float f) {
  const uint32_t u = bf16_bits(f) << 16;
  float r;
  memcpy(&r, &u, 4);
  return r;
}

__host__ __device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) { return bf16_bits(lo) | (bf16_bits(hi) << 16); }

// fp32 → tf32 (the fp32 bit pattern with the low 13 mantissa bits zero), rounded to nearest with ties away from
// zero as cvt.rna.tf32.f32 does; NaN and infinities pass unchanged. The tensor cores ignore the low 13 bits of a
// tf32 operand, so an unrounded operand would be truncated: kernels round with this first.
__host__ __device__ __forceinline__ uint32_t tf32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return u;
  return (u + 0x1000u) & 0xffffe000u;
}

__host__ __device__ __forceinline__ float tf32_round(float f) {
  const uint32_t u = tf32_bits(f);
  float r;
  memcpy(&r, &u, 4);
  return r;
}

// D = A·B + C, m16n8k16, bf16 inputs, fp32 accumulators (d may alias c).
__device__ __forceinline__ void mma_bf16_16816(float* d, const uint32_t* a, const uint32_t* b, const float* c) {
#if FT_EMULATED
  float out[4];
  ftemu::mma_sync(a, b, c, out);
  for (int i = 0; i < 4; ++i) d[i] = out[i];
#elif FT_TENSOR_CORES
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
#else
  (void)d, (void)a, (void)b, (void)c;
  __trap();
#endif
}

// D = A·B + C, m16n8k8, tf32 inputs (one per register, rounded by tf32_bits), fp32 accumulators. Fragments
// (PTX ISA, "Matrix Fragments for mma.m16n8k8" with .tf32): a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4],
// a3 = A[g+8][t+4]; b0 = B[t][g], b1 = B[t+4][g]; C/D as m16n8k16. In shared memory a row of 16-byte chunks
// holds four tf32 where it holds eight bf16, so ldmatrix.x4 (which moves b16 pairs, i.e. 32-bit words) loads
// these fragments with the same byte addresses as the bf16 ones.
__device__ __forceinline__ void mma_tf32_1688(float* d, const uint32_t* a, const uint32_t* b, const float* c) {
#if FT_EMULATED
  float out[4];
  ftemu::mma_sync_tf32(a, b, c, out);
  for (int i = 0; i < 4; ++i) d[i] = out[i];
#elif FT_TENSOR_CORES
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
#else
  (void)d, (void)a, (void)b, (void)c;
  __trap();
#endif
}

// ldmatrix.sync.aligned.m8n8.x4.shared.b16: lanes 8j..8j+7 pass the rows of matrix j (16-byte aligned);
// r[j] = row lane/4, columns 2(lane%4), 2(lane%4)+1 of matrix j. With Trans (.trans): r[j] = column lane/4 of
// rows 2(lane%4) and 2(lane%4)+1 of matrix j.
template <bool Trans = false>
__device__ __forceinline__ void ldmatrix_x4(uint32_t* r, const void* row) {
#if FT_EMULATED
  ftemu::ldmatrix(4, Trans, row, r);
#elif FT_TENSOR_CORES
  const unsigned s = (unsigned)__cvta_generic_to_shared(row);
  if constexpr (Trans) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
  } else {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
  }
#else
  (void)r, (void)row;
  __trap();
#endif
}

// cp.async.cg.shared.global of 16 bytes, of which the first src_bytes come from global memory and the rest
// are zeros (src_bytes = 0 reads nothing: the edge of a matrix). Both addresses 16-byte aligned.
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int src_bytes) {
#if FT_EMULATED
  ftemu::cp_async(dst, src, 16, src_bytes);
#elif FT_TENSOR_CORES
  const unsigned s = (unsigned)__cvta_generic_to_shared(dst);
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(src), "r"(src_bytes));
#else
  (void)dst, (void)src, (void)src_bytes;
  __trap();
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if FT_EMULATED
  ftemu::cp_async_commit();
#elif FT_TENSOR_CORES
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}

// Waits until at most N of this thread's committed groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if FT_EMULATED
  ftemu::cp_async_wait(N);
#elif FT_TENSOR_CORES
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

}  // namespace ftc
