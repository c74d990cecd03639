// The large tensor-core GEMM (compute modes bf16 and tf32, products big enough to fill the GPU with 128×128
// tiles): the operands are first staged into a device workspace in the mode's own format, K-major and padded,
// and the product then streams them through a cp.async pipeline. Included by gemm.cu only (it uses gemm.cu's
// store_c epilogue and Bf16Operands / Tf32Operands).
//
// Why stage: gemm_tc_kernel reads fp32 operands and converts them on their way into shared memory, so every
// tile read moves 4 bytes per element through L2 and the copy must pass through registers (no cp.async). A
// pass over each operand that writes it rounded (bf16: 2 bytes), with K contiguous whatever the transpose of
// the linear product, and K padded with zeros to whole 64-byte k-tiles, costs O((M + N)·K) against the
// product's O(M·N·K), halves the bytes of every tile read in bf16 mode, and leaves the product one layout
// with no K edge: 16-byte cp.async copies straight into shared memory, rows past M or N zero-filled.
//
// Product: block tile 128×128 by 64 bytes of K (32 bf16 or 16 tf32), 256 threads as 8 warps in a 2×4 grid,
// each warp 64×32 (4×4 mma tiles, 64 fp32 accumulators per thread: twice the FLOPs per byte of shared
// memory read of the 64×64 kernel's 32×32 warp tiles). A three-stage cp.async pipeline keeps two k-tiles in
// flight while one is multiplied, with one barrier per k-tile. Rows are padded to 80 bytes in shared memory
// (the eight rows of one ldmatrix in eight different bank groups), 60 KB in all, opted into above 48 KB.
// Per output element the sequence of mma steps (k16 or k8 chunks in increasing k, zeros past K) is that of
// gemm_tc_kernel, so both kernels give bit-identical results (emu_mma_test checks it).
#pragma once

namespace ftc {
namespace {

constexpr int TL_BM = 128, TL_BN = 128, TL_THREADS = 256, TL_STAGES = 3, TL_ROW_BYTES = 80, TL_TILE_BYTES = 64;
constexpr size_t TL_SMEM = (size_t)TL_STAGES * (TL_BM + TL_BN) * TL_ROW_BYTES;

// Elements of K after padding to whole k-tiles (64 bytes of the mode's format).
template <class Op>
constexpr long long padded_k(long long K) {
  return (K + Op::BK - 1) / Op::BK * Op::BK;
}

// out[r][k] = X(r, k) = X[r·sr + k·sk] in Op's format for k < K, 0 for K ≤ k < KP. A 32×32 tile per block
// through shared memory, read with the unit-stride index fastest (so dW's transposed dy coalesces too) and
// written with k fastest; the +1 column keeps the transposed accesses free of bank conflicts.
template <class Op>
__global__ void __launch_bounds__(256) stage_operand_kernel(int R, int K, int KP, const float* __restrict__ X,
                                                            long long sr, long long sk, typename Op::E* __restrict__ out) {
  __shared__ float tile[32][33];  // [r][k] of this block's tile
  const int tx = threadIdx.x % 32, ty = threadIdx.x / 32;
  const int r0 = blockIdx.x * 32, k0 = blockIdx.y * 32;
  for (int i = ty; i < 32; i += 8) {
    const int rl = sk == 1 ? i : tx, kl = sk == 1 ? tx : i;
    const int r = r0 + rl, k = k0 + kl;
    tile[rl][kl] = (r < R && k < K) ? X[(long long)r * sr + (long long)k * sk] : 0.0f;
  }
  __syncthreads();
  for (int i = ty; i < 32; i += 8) {
    const int r = r0 + i, k = k0 + tx;
    if (r < R && k < KP) out[(long long)r * KP + k] = Op::convert(tile[i][tx]);
  }
}

template <class Op>
__global__ void __launch_bounds__(TL_THREADS) gemm_tc_large_kernel(int M, int N, int KP, const typename Op::E* __restrict__ A,
                                                                   const typename Op::E* __restrict__ B,
                                                                   float* __restrict__ C, long long ldc, int accumulate,
                                                                   const float* __restrict__ bias, int relu,
                                                                   const float* __restrict__ gate, float gs,
                                                                   const float* __restrict__ addend) {
  FT_DYNAMIC_SHARED(uint4, tl_raw);
  unsigned char* smem = reinterpret_cast<unsigned char*>(tl_raw);
  // Stage s: A's 128 rows at smem + s·256·80, then B's 128 rows; row r holds the k-tile's 64 bytes at offset 0.
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int wm = warp / 4, wn = warp % 4;
  const int row0 = blockIdx.y * TL_BM, col0 = blockIdx.x * TL_BN;
  const long long row_bytes = (long long)KP * (long long)sizeof(typename Op::E);
  const unsigned char* Ab = reinterpret_cast<const unsigned char*>(A);
  const unsigned char* Bb = reinterpret_cast<const unsigned char*>(B);
  const int ktiles = (int)(row_bytes / TL_TILE_BYTES);

  // k-tile kt into stage s: 128 rows × 4 chunks of 16 bytes per operand, two of each per thread.
  auto load = [&](int kt, int s) {
    unsigned char* As = smem + s * (TL_BM + TL_BN) * TL_ROW_BYTES;
    unsigned char* Bs = As + TL_BM * TL_ROW_BYTES;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int c = tid + r * TL_THREADS, row = c / 4, chunk = c % 4;
      const long long off = (long long)kt * TL_TILE_BYTES + chunk * 16;
      const bool ina = row0 + row < M, inb = col0 + row < N;
      cp_async16(As + row * TL_ROW_BYTES + chunk * 16, ina ? Ab + (long long)(row0 + row) * row_bytes + off : Ab, ina ? 16 : 0);
      cp_async16(Bs + row * TL_ROW_BYTES + chunk * 16, inb ? Bb + (long long)(col0 + row) * row_bytes + off : Bb, inb ? 16 : 0);
    }
  };

  float acc[4][4][4];
#pragma unroll
  for (int mi = 0; mi < 4; ++mi)
#pragma unroll
    for (int ni = 0; ni < 4; ++ni)
#pragma unroll
      for (int i = 0; i < 4; ++i) acc[mi][ni][i] = 0.0f;

  // Prologue: the first STAGES - 1 k-tiles in flight, one commit group each (empty past the last k-tile, so
  // that the group count, which wait_group counts, is the same in every iteration).
#pragma unroll
  for (int s = 0; s < TL_STAGES - 1; ++s) {
    if (s < ktiles) load(s, s);
    cp_async_commit();
  }
  for (int kt = 0; kt < ktiles; ++kt) {
    cp_async_wait<TL_STAGES - 2>();  // this thread's copies of k-tile kt have landed
    __syncthreads();                 // everyone's have; and every warp is done with k-tile kt - 1's stage
    const int next = kt + TL_STAGES - 1;
    if (next < ktiles) load(next, next % TL_STAGES);  // into the stage k-tile kt - 1 used
    cp_async_commit();
    const unsigned char* As = smem + (kt % TL_STAGES) * (TL_BM + TL_BN) * TL_ROW_BYTES;
    const unsigned char* Bs = As + TL_BM * TL_ROW_BYTES;
#pragma unroll
    for (int ks = 0; ks < TL_TILE_BYTES; ks += 32) {  // byte offset of the mma step within a row
      const int j = lane / 8, r8 = lane % 8;
      uint32_t a[4][4], b[4][2];
#pragma unroll
      for (int mi = 0; mi < 4; ++mi) {
        // a0..a3 = rows 0-7/8-15 × bytes 0-15/16-31 in the order (0,0), (8,0), (0,16), (8,16).
        const int row = wm * 64 + mi * 16 + r8 + (j % 2) * 8, col = ks + (j / 2) * 16;
        ldmatrix_x4(a[mi], As + row * TL_ROW_BYTES + col);
      }
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        // Two n8 tiles at once: (n 0-7, bytes 0-15), (n 0-7, 16-31), (n 8-15, 0-15), (n 8-15, 16-31).
        const int n = wn * 32 + p * 16 + r8 + (j / 2) * 8, col = ks + (j % 2) * 16;
        uint32_t r[4];
        ldmatrix_x4(r, Bs + n * TL_ROW_BYTES + col);
        b[2 * p][0] = r[0];
        b[2 * p][1] = r[1];
        b[2 * p + 1][0] = r[2];
        b[2 * p + 1][1] = r[3];
      }
#pragma unroll
      for (int mi = 0; mi < 4; ++mi)
#pragma unroll
        for (int ni = 0; ni < 4; ++ni) Op::step(acc[mi][ni], a[mi], b[ni]);
    }
  }
  cp_async_wait<0>();  // only empty groups remain; leave none behind

  const int g = lane / 4, t = lane % 4;
#pragma unroll
  for (int mi = 0; mi < 4; ++mi)
#pragma unroll
    for (int ni = 0; ni < 4; ++ni)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int gi = row0 + wm * 64 + mi * 16 + g + (i / 2) * 8, gj = col0 + wn * 32 + ni * 8 + 2 * t + (i % 2);
        if (gi >= M || gj >= N) continue;
        store_c(C, (long long)gi * ldc + gj, acc[mi][ni][i], bias, gj, accumulate, relu, gate, gs, addend);
      }
}

// The workspace of the staged operands: one device allocation per process, grown (never shrunk) to the
// largest product seen, so a training step allocates only on its first pass. Freeing the old one waits for
// the device, which is what cudaFree does anyway. A failed allocation is left for the op's check.
struct StagingBuffer {
  void* p = nullptr;
  size_t bytes = 0;
  void* ensure(size_t want) {
    if (want <= bytes) return p;
    if (p != nullptr) cudaFree(p);
    p = nullptr;
    bytes = 0;
    const cudaError_t e = cudaMalloc(&p, want);
    if (e != cudaSuccess) {
      if (pending_error() == cudaSuccess) pending_error() = e;
      p = nullptr;
      return nullptr;
    }
    bytes = want;
    return p;
  }
};

inline StagingBuffer& staging_buffer() {
  static StagingBuffer b;
  return b;
}

template <class Op>
void gemm_tc_large(int64_t M, int64_t N, int64_t K, const float* A, int64_t sai, int64_t sak, const float* B,
                   int64_t sbk, int64_t sbj, float* C, int64_t ldc, bool accumulate, const float* bias, bool relu,
                   const float* gate, float gate_scale, const float* addend) {
  using E = typename Op::E;
  const long long KP = padded_k<Op>(K);
  // A's rows, then B's; each row a whole number of 64-byte k-tiles, so B starts 16-byte aligned.
  void* ws = staging_buffer().ensure((size_t)(M + N) * (size_t)KP * sizeof(E));
  if (ws == nullptr) return;
  E* As = static_cast<E*>(ws);
  E* Bs = As + M * KP;
  const unsigned kblocks = (unsigned)((KP + 31) / 32);
  FT_LAUNCH(stage_operand_kernel<Op>, dim3((unsigned)((M + 31) / 32), kblocks), dim3(256), 0, (int)M, (int)K, (int)KP, A,
            (long long)sai, (long long)sak, As);
  // B(k, j) = B[k·sbk + j·sbj]: row j of the staged B is column j of the product's B.
  FT_LAUNCH(stage_operand_kernel<Op>, dim3((unsigned)((N + 31) / 32), kblocks), dim3(256), 0, (int)N, (int)K, (int)KP, B,
            (long long)sbj, (long long)sbk, Bs);
  // 60 KB of shared memory: above the default 48 KB, so opted into (a refusal surfaces as the launch's error).
  cudaFuncSetAttribute(gemm_tc_large_kernel<Op>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)TL_SMEM);
  const dim3 grid((unsigned)((N + TL_BN - 1) / TL_BN), (unsigned)((M + TL_BM - 1) / TL_BM));
  FT_LAUNCH(gemm_tc_large_kernel<Op>, grid, dim3(TL_THREADS), TL_SMEM, (int)M, (int)N, (int)KP, As, Bs, C,
            (long long)ldc, accumulate ? 1 : 0, bias, relu ? 1 : 0, gate, gate_scale, addend);
}

}  // namespace
}  // namespace ftc
