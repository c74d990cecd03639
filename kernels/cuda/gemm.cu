// Tiled shared-memory GEMM with register blocking, for linear (and patch embedding) forward and backward:
//   y = x·Wᵀ + b,  dx += dy·W,  dW += dyᵀ·x  (one strided kernel; the three differ only in strides), and
//   db += Σ_n dy (a column-sum kernel: row groups per column block, coalesced, deterministic).
// Block tile 64×64×16, 256 threads, each thread an 4×4 register tile spread with stride 16 (rows tr + 16i,
// columns tc + 16j) so that a warp reads consecutive shared-memory words (no bank conflicts). Tiles are
// loaded with the unit-stride operand index fastest, so global loads coalesce whichever operand is
// transposed. Edges are zero-padded in shared memory, so any M, N, K works.
#include "launch.h"
#include "mma.cuh"
#include "ops.h"
#include "reduce.cuh"

namespace ftc {
namespace {

constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4, THREADS = 256;

// The one epilogue of every GEMM kernel: C = (C +) v + bias[j], then the relu op's rule (NaN becomes 0) when
// asked for, then the gate (the relu backward of the layer below, as the CPU GEMM fuses it): C = g > 0 ? C·gs : 0,
// where g is the gate's element at C's position (gate laid out as C, leading dimension ldc; a NaN gate gives 0)
// and gs the gate's scale (1, or 1/(1 − p) through a dropout whose output is the gate: ops.h); last, the
// addend (linear's residual, laid out as C): C = addend + C.
// at: the element's offset in C (and in the gate and the addend), i·ldc + j.
__device__ __forceinline__ void store_c(float* C, long long at, float v, const float* __restrict__ bias, long long j,
                                        int accumulate, int relu, const float* __restrict__ gate, float gs,
                                        const float* __restrict__ addend) {
  if (bias != nullptr) v += bias[j];
  if (accumulate) v += C[at];
  if (relu) v = v > 0.0f ? v : 0.0f;
  if (gate != nullptr) v = gate[at] > 0.0f ? v * gs : 0.0f;
  if (addend != nullptr) v = addend[at] + v;
  C[at] = v;
}

__global__ void __launch_bounds__(THREADS) gemm_kernel(int M, int N, int K, const float* __restrict__ A,
                                                       long long sai, long long sak, const float* __restrict__ B,
                                                       long long sbk, long long sbj, float* __restrict__ C,
                                                       long long ldc, int accumulate,
                                                       const float* __restrict__ bias, int relu,
                                                       const float* __restrict__ gate, float gs,
                                                       const float* __restrict__ addend) {
  FT_DYNAMIC_SHARED(float, smem);
  float* As = smem;            // [BK][BM]
  float* Bs = smem + BK * BM;  // [BK][BN]
  const int tid = threadIdx.x;
  const int tr = tid / 16, tc = tid % 16;
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;

  for (int k0 = 0; k0 < K; k0 += BK) {
    for (int e = tid; e < BK * BM; e += THREADS) {
      int kk, ii;
      if (sak == 1) {
        kk = e % BK;
        ii = e / BK;
      } else {
        ii = e % BM;
        kk = e / BM;
      }
      const int gi = row0 + ii, gk = k0 + kk;
      As[kk * BM + ii] = (gi < M && gk < K) ? A[(long long)gi * sai + (long long)gk * sak] : 0.0f;
    }
    for (int e = tid; e < BK * BN; e += THREADS) {
      int kk, jj;
      if (sbk == 1) {
        kk = e % BK;
        jj = e / BK;
      } else {
        jj = e % BN;
        kk = e / BN;
      }
      const int gj = col0 + jj, gk = k0 + kk;
      Bs[kk * BN + jj] = (gj < N && gk < K) ? B[(long long)gk * sbk + (long long)gj * sbj] : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float a[TM], b[TN];
#pragma unroll
      for (int i = 0; i < TM; ++i) a[i] = As[kk * BM + tr + 16 * i];
#pragma unroll
      for (int j = 0; j < TN; ++j) b[j] = Bs[kk * BN + tc + 16 * j];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int gi = row0 + tr + 16 * i;
    if (gi >= M) continue;
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int gj = col0 + tc + 16 * j;
      if (gj >= N) continue;
      store_c(C, (long long)gi * ldc + gj, acc[i][j], bias, gj, accumulate, relu, gate, gs, addend);
    }
  }
}

// ---------------------------------------------------------------- tensor-core GEMM (compute modes bf16, tf32)
// The same strided product on tensor cores: operands rounded (bf16: nearest even; tf32: nearest, ties away, as
// cvt.rna) as they are staged into shared memory, products accumulated in fp32 by mma.sync (m16n8k16 for bf16,
// m16n8k8 for tf32). Block tile 64×64 by 64 bytes of K (32 bf16 or 16 tf32), four warps in a 2×2 grid, each a
// 32×32 tile of 2×4 mma tiles (32 accumulators per thread). Fragments come from shared memory through
// ldmatrix.x4; rows are padded to 80 bytes so the eight 16-byte rows one ldmatrix reads fall in eight
// different bank groups. Both formats use the same byte addresses (mma.cuh, mma_tf32_1688): a k-tile is two
// 32-byte mma steps. Global loads keep the unit-stride index fastest (so they coalesce for every transpose of
// the three linear products), and the next k-tile is loaded into registers while the current one is
// multiplied, into the other of two shared-memory stages: one barrier per k-tile. Operands are fp32 in
// memory, so the conversion happens on the way into shared memory and cp.async (a raw copy) has no place here.
struct Bf16Operands {
  using E = uint16_t;
  static constexpr int BK = 32;  // elements per k-tile: 64 bytes
  __device__ __forceinline__ static E convert(float x) { return (E)bf16_bits(x); }
  // One 32-byte step: a k16 mma.
  __device__ __forceinline__ static void step(float* d, const uint32_t* a, const uint32_t* b) { mma_bf16_16816(d, a, b, d); }
};
struct Tf32Operands {
  using E = uint32_t;
  static constexpr int BK = 16;
  __device__ __forceinline__ static E convert(float x) { return tf32_bits(x); }
  // One 32-byte step: a k8 mma.
  __device__ __forceinline__ static void step(float* d, const uint32_t* a, const uint32_t* b) { mma_tf32_1688(d, a, b, d); }
};

constexpr int TC_BM = 64, TC_BN = 64, TC_ROW_BYTES = 80, TC_THREADS = 128;
constexpr size_t TC_SMEM = 2 * (TC_BM + TC_BN) * TC_ROW_BYTES;

template <class Op>
__global__ void __launch_bounds__(TC_THREADS) gemm_tc_kernel(int M, int N, int K, const float* __restrict__ A,
                                                             long long sai, long long sak, const float* __restrict__ B,
                                                             long long sbk, long long sbj, float* __restrict__ C,
                                                             long long ldc, int accumulate, const float* __restrict__ bias,
                                                             int relu, const float* __restrict__ gate, float gs,
                                                             const float* __restrict__ addend) {
  using E = typename Op::E;
  constexpr int BK = Op::BK, LD = TC_ROW_BYTES / (int)sizeof(E);  // LD: a padded row, in elements
  constexpr int LOADS = TC_BM * BK / TC_THREADS;  // elements of each operand one thread stages per k-tile
  // One declaration of the dynamic shared memory for every instantiation (extern __shared__ arrays of different
  // element types in one translation unit conflict), 16-byte aligned for ldmatrix.
  FT_DYNAMIC_SHARED(uint4, tc_raw);
  E* tc_smem = reinterpret_cast<E*>(tc_raw);
  // Stage s: As = tc_smem + s·(BM+BN)·LD as [BM][LD] (row i, column k), Bs right after as [BN][LD] (row j).
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int wm = warp / 2, wn = warp % 2;
  const int row0 = blockIdx.y * TC_BM, col0 = blockIdx.x * TC_BN;
  float ra[LOADS], rb[LOADS];

  // Element e of a 64×BK tile: (index along M or N, index along K), unit-stride index fastest.
  auto load = [&](int k0) {
#pragma unroll
    for (int r = 0; r < LOADS; ++r) {
      const int e = tid + r * TC_THREADS;
      const int ii = sak == 1 ? e / BK : e % TC_BM, ka = sak == 1 ? e % BK : e / TC_BM;
      const int gi = row0 + ii, gka = k0 + ka;
      ra[r] = (gi < M && gka < K) ? A[(long long)gi * sai + (long long)gka * sak] : 0.0f;
      const int jj = sbk == 1 ? e / BK : e % TC_BN, kb = sbk == 1 ? e % BK : e / TC_BN;
      const int gj = col0 + jj, gkb = k0 + kb;
      rb[r] = (gj < N && gkb < K) ? B[(long long)gkb * sbk + (long long)gj * sbj] : 0.0f;
    }
  };
  auto store = [&](int stage) {
    E* As = tc_smem + stage * (TC_BM + TC_BN) * LD;
    E* Bs = As + TC_BM * LD;
#pragma unroll
    for (int r = 0; r < LOADS; ++r) {
      const int e = tid + r * TC_THREADS;
      const int ii = sak == 1 ? e / BK : e % TC_BM, ka = sak == 1 ? e % BK : e / TC_BM;
      As[ii * LD + ka] = Op::convert(ra[r]);
      const int jj = sbk == 1 ? e / BK : e % TC_BN, kb = sbk == 1 ? e % BK : e / TC_BN;
      Bs[jj * LD + kb] = Op::convert(rb[r]);
    }
  };

  float acc[2][4][4];
#pragma unroll
  for (int mi = 0; mi < 2; ++mi)
#pragma unroll
    for (int ni = 0; ni < 4; ++ni)
#pragma unroll
      for (int i = 0; i < 4; ++i) acc[mi][ni][i] = 0.0f;

  const int ktiles = (K + BK - 1) / BK;
  load(0);
  store(0);
  __syncthreads();
  for (int kt = 0; kt < ktiles; ++kt) {
    const bool more = kt + 1 < ktiles;
    if (more) load((kt + 1) * BK);  // in flight while this tile is multiplied
    const unsigned char* As = reinterpret_cast<const unsigned char*>(tc_smem + (kt % 2) * (TC_BM + TC_BN) * LD);
    const unsigned char* Bs = As + TC_BM * TC_ROW_BYTES;
#pragma unroll
    for (int ks = 0; ks < 64; ks += 32) {  // byte offset of the mma step within a row
      // ldmatrix.x4 address of this lane: matrix j = lane/8, its row lane%8; a matrix column block is 16 bytes.
      const int j = lane / 8, r8 = lane % 8;
      uint32_t a[2][4], b[4][2];
#pragma unroll
      for (int mi = 0; mi < 2; ++mi) {
        // a0..a3 = rows 0-7/8-15 × bytes 0-15/16-31 in the order (0,0), (8,0), (0,16), (8,16).
        const int row = wm * 32 + mi * 16 + r8 + (j % 2) * 8, col = ks + (j / 2) * 16;
        ldmatrix_x4(a[mi], As + row * TC_ROW_BYTES + col);
      }
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        // Two n8 tiles at once: (n 0-7, bytes 0-15), (n 0-7, 16-31), (n 8-15, 0-15), (n 8-15, 16-31).
        const int n = wn * 32 + p * 16 + r8 + (j / 2) * 8, col = ks + (j % 2) * 16;
        uint32_t r[4];
        ldmatrix_x4(r, Bs + n * TC_ROW_BYTES + col);
        b[2 * p][0] = r[0];
        b[2 * p][1] = r[1];
        b[2 * p + 1][0] = r[2];
        b[2 * p + 1][1] = r[3];
      }
#pragma unroll
      for (int mi = 0; mi < 2; ++mi)
#pragma unroll
        for (int ni = 0; ni < 4; ++ni) Op::step(acc[mi][ni], a[mi], b[ni]);
    }
    if (more) store((kt + 1) % 2);  // the other stage: its last readers finished before the previous barrier
    __syncthreads();
  }

  const int g = lane / 4, t = lane % 4;
#pragma unroll
  for (int mi = 0; mi < 2; ++mi)
#pragma unroll
    for (int ni = 0; ni < 4; ++ni)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int gi = row0 + wm * 32 + mi * 16 + g + (i / 2) * 8, gj = col0 + wn * 32 + ni * 8 + 2 * t + (i % 2);
        if (gi >= M || gj >= N) continue;
        store_c(C, (long long)gi * ldc + gj, acc[mi][ni][i], bias, gj, accumulate, relu, gate, gs, addend);
      }
}

}  // namespace
}  // namespace ftc

#include "gemm_tc_large.cuh"

namespace ftc {
namespace {

// ---------------------------------------------------------------- skinny products with a long K (the HR head)
// [B, S·D]·[2, S·D]ᵀ gives 64 outputs from K = 5,632 (19m) to 63,488 (1b) terms each: the tile kernels would run
// it as one block walking all of K. Here every output is a block of 256 threads striding over K (both operands
// unit-stride along K, so the loads coalesce) and one block reduction in a fixed order: M·N blocks, no
// scratch, deterministic. In bf16 mode the operands are rounded to bf16 as the tensor-core kernel rounds
// them, and their products (exact in fp32) are summed in fp32, which is what that kernel computes; in tf32
// mode they are rounded to tf32 (11 significant bits: their products are exact in fp32 too).
constexpr int DOT_THREADS = 256;

__global__ void __launch_bounds__(DOT_THREADS) gemm_dot_kernel(int N, int K, const float* __restrict__ A, long long sai,
                                                               const float* __restrict__ B, long long sbj,
                                                               float* __restrict__ C, long long ldc, int accumulate,
                                                               const float* __restrict__ bias, int round, int relu,
                                                               const float* __restrict__ gate, float gs,
                                                               const float* __restrict__ addend) {
  __shared__ float scratch[32];
  const int i = blockIdx.x / N, j = blockIdx.x % N;
  const float* a = A + (long long)i * sai;
  const float* b = B + (long long)j * sbj;
  float v = 0.0f;
  for (int k = threadIdx.x; k < K; k += DOT_THREADS) {
    float x = a[k], y = b[k];
    if (round == 1) {
      x = bf16_round(x);
      y = bf16_round(y);
    } else if (round == 2) {
      x = tf32_round(x);
      y = tf32_round(y);
    }
    v = fmaf(x, y, v);
  }
  v = block_sum(v, scratch);
  if (threadIdx.x == 0) store_c(C, (long long)i * ldc + j, v, bias, j, accumulate, relu, gate, gs, addend);
}

// The dot-product kernel instead of the tiles: both operands unit-stride along K, few enough outputs that the
// tiles would leave most of the GPU idle (at most 4 tiles of 64×64), and K long enough to share out.
bool use_dot(int64_t M, int64_t N, int64_t K, int64_t sak, int64_t sbk) {
  return sak == 1 && sbk == 1 && M * N <= 4096 && ((M + 63) / 64) * ((N + 63) / 64) <= 4 && K >= 1024;
}

// The 128×128 kernel over staged operands (gemm_tc_large.cuh) instead of the 64×64 one: when forced, or when its
// blocks make at least one full wave over the SMs (below that, the 64×64 kernel's four times as many blocks
// keep more of the GPU busy, and staging would be pure overhead). K is bounded by the staging grid's y extent.
bool use_large_tiles(int64_t M, int64_t N, int64_t K) {
  if (gemm_tiles() == GemmTiles::Small || K > (int64_t)65535 * 32) return false;
  if (gemm_tiles() == GemmTiles::Large) return true;
  return M >= TL_BM && N >= TL_BN && ((M + TL_BM - 1) / TL_BM) * ((N + TL_BN - 1) / TL_BN) >= multiprocessor_count();
}

// db[m] (+)= Σ_n dy[n, m] (reduce.cuh: row groups of one column block, added in a fixed order).
__global__ void __launch_bounds__(COL_SUM_THREADS) column_sums_kernel(const float* __restrict__ dy, long long N,
                                                                      long long M, float* __restrict__ db,
                                                                      int accumulate) {
  const int group = threadIdx.x / COL_SUM_COLS;
  const long long m = (long long)blockIdx.x * COL_SUM_COLS + threadIdx.x % COL_SUM_COLS;
  float v[1] = {0.0f};
  if (m < M)
    for (long long n = group; n < N; n += COL_SUM_GROUPS) v[0] += dy[n * M + m];
  sum_row_groups<1>(v);
  if (group == 0 && m < M) db[m] = accumulate ? db[m] + v[0] : v[0];
}

}  // namespace

void gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t sai, int64_t sak, const float* B, int64_t sbk,
          int64_t sbj, float* C, int64_t ldc, bool accumulate, const float* bias, bool relu, const float* gate,
          float gate_scale, const float* addend) {
  // The gate masks the whole of C, so it cannot apply to a sum with C's old values, nor can the addend, C's new
  // base (callers check this; the CPU GEMM refuses the same).
  if ((gate != nullptr || addend != nullptr) && accumulate) {
    if (pending_error() == cudaSuccess) pending_error() = cudaErrorInvalidValue;
    return;
  }
  if (use_dot(M, N, K, sak, sbk)) {
    FT_LAUNCH(gemm_dot_kernel, dim3((unsigned)(M * N)), dim3(DOT_THREADS), 0, (int)N, (int)K, A, (long long)sai, B,
              (long long)sbj, C, (long long)ldc, accumulate ? 1 : 0, bias,
              compute_mode() == ComputeMode::Bf16 ? 1 : compute_mode() == ComputeMode::Tf32 ? 2 : 0, relu ? 1 : 0, gate, gate_scale, addend);
    return;
  }
  if (compute_mode() != ComputeMode::Fp32) {
    if (use_large_tiles(M, N, K)) {
      if (compute_mode() == ComputeMode::Bf16) gemm_tc_large<Bf16Operands>(M, N, K, A, sai, sak, B, sbk, sbj, C, ldc, accumulate, bias, relu, gate, gate_scale, addend);
      else gemm_tc_large<Tf32Operands>(M, N, K, A, sai, sak, B, sbk, sbj, C, ldc, accumulate, bias, relu, gate, gate_scale, addend);
      return;
    }
    const dim3 grid((unsigned)((N + TC_BN - 1) / TC_BN), (unsigned)((M + TC_BM - 1) / TC_BM));
    if (compute_mode() == ComputeMode::Bf16) {
      FT_LAUNCH(gemm_tc_kernel<Bf16Operands>, grid, dim3(TC_THREADS), TC_SMEM, (int)M, (int)N, (int)K, A,
                (long long)sai, (long long)sak, B, (long long)sbk, (long long)sbj, C, (long long)ldc,
                accumulate ? 1 : 0, bias, relu ? 1 : 0, gate, gate_scale, addend);
    } else {
      FT_LAUNCH(gemm_tc_kernel<Tf32Operands>, grid, dim3(TC_THREADS), TC_SMEM, (int)M, (int)N, (int)K, A,
                (long long)sai, (long long)sak, B, (long long)sbk, (long long)sbj, C, (long long)ldc,
                accumulate ? 1 : 0, bias, relu ? 1 : 0, gate, gate_scale, addend);
    }
    return;
  }
  const dim3 grid((unsigned)((N + BN - 1) / BN), (unsigned)((M + BM - 1) / BM));
  const size_t smem = (size_t)(BK * BM + BK * BN) * sizeof(float);
  FT_LAUNCH(gemm_kernel, grid, dim3(THREADS), smem, (int)M, (int)N, (int)K, A, (long long)sai, (long long)sak, B,
            (long long)sbk, (long long)sbj, C, (long long)ldc, accumulate ? 1 : 0, bias, relu ? 1 : 0, gate, gate_scale, addend);
}

void column_sums_add(const float* dy, int64_t N, int64_t M, float* db, bool accumulate) {
  FT_LAUNCH(column_sums_kernel, dim3(col_sum_blocks(M)), dim3(COL_SUM_THREADS), 0, dy, (long long)N, (long long)M, db,
            accumulate ? 1 : 0);
}

void linear_forward(const float* x, const float* w, const float* b, float* y, int64_t N, int64_t K, int64_t M,
                    bool relu, const float* residual) {
  // y[N,M] = x[N,K]·wᵀ: A(n,k) = x[n·K + k], B(k,m) = w[m·K + k]; the residual in the epilogue.
  gemm(N, M, K, x, K, 1, w, 1, K, y, M, false, b, relu, nullptr, 1.0f, residual);
}

void linear_backward(const float* dy, const float* x, const float* w, float* dx, float* dw, float* db, int64_t N,
                     int64_t K, int64_t M, bool overwrite_dx, const float* relu_of, bool overwrite_dw,
                     float relu_scale) {
  // dx[n,k] (+)= Σ_m dy[n,m]·w[m,k]
  // With relu_of, the relu backward of the layer below rides on the epilogue (dx = relu_of > 0 ? dy·w : 0): dx is
  // written once, instead of written, read back and written again by a relu-backward pass; relu_scale times it
  // where the gate passes (through a dropout whose output is relu_of: ops.h).
  if (dx != nullptr) gemm(N, K, M, dy, M, 1, w, K, 1, dx, K, !overwrite_dx, nullptr, false, relu_of, relu_scale);
  // dw[m,k] (+)= Σ_n dy[n,m]·x[n,k], db (+)= Σ_n dy: overwrite_dw for the step's first gradient of w and b.
  if (dw != nullptr) gemm(M, K, N, dy, 1, M, x, K, 1, dw, K, !overwrite_dw, nullptr);
  if (db != nullptr) column_sums_add(dy, N, M, db, !overwrite_dw);
}

}  // namespace ftc
