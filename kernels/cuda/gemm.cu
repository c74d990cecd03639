// Tiled shared-memory GEMM with register blocking, for linear (and patch embedding) forward and backward:
//   y = x·Wᵀ + b,  dx += dy·W,  dW += dyᵀ·x  (one strided kernel; the three differ only in strides), and
//   db += Σ_n dy (a column-sum kernel, one thread per column, coalesced, deterministic).
// Block tile 64×64×16, 256 threads, each thread an 4×4 register tile spread with stride 16 (rows tr + 16i,
// columns tc + 16j) so that a warp reads consecutive shared-memory words (no bank conflicts). Tiles are
// loaded with the unit-stride operand index fastest, so global loads coalesce whichever operand is
// transposed. Edges are zero-padded in shared memory, so any M, N, K works.
#include "launch.h"
#include "ops.h"

namespace ftc {
namespace {

constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4, THREADS = 256;

__global__ void __launch_bounds__(THREADS) gemm_kernel(int M, int N, int K, const float* __restrict__ A,
                                                       long long sai, long long sak, const float* __restrict__ B,
                                                       long long sbk, long long sbj, float* __restrict__ C,
                                                       long long ldc, int accumulate,
                                                       const float* __restrict__ bias) {
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
      float v = acc[i][j];
      if (bias != nullptr) v += bias[gj];
      float* c = C + (long long)gi * ldc + gj;
      *c = accumulate ? *c + v : v;
    }
  }
}

__global__ void column_sums_kernel(const float* __restrict__ dy, long long N, long long M, float* __restrict__ db) {
  const long long m = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (m >= M) return;
  float s = 0.0f;
  for (long long n = 0; n < N; ++n) s += dy[n * M + m];
  db[m] += s;
}

}  // namespace

void gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t sai, int64_t sak, const float* B, int64_t sbk,
          int64_t sbj, float* C, int64_t ldc, bool accumulate, const float* bias) {
  const dim3 grid((unsigned)((N + BN - 1) / BN), (unsigned)((M + BM - 1) / BM));
  const size_t smem = (size_t)(BK * BM + BK * BN) * sizeof(float);
  FT_LAUNCH(gemm_kernel, grid, dim3(THREADS), smem, (int)M, (int)N, (int)K, A, (long long)sai, (long long)sak, B,
            (long long)sbk, (long long)sbj, C, (long long)ldc, accumulate ? 1 : 0, bias);
}

void column_sums_add(const float* dy, int64_t N, int64_t M, float* db) {
  const int threads = 128;
  FT_LAUNCH(column_sums_kernel, dim3((unsigned)((M + threads - 1) / threads)), dim3(threads), 0, dy, (long long)N,
            (long long)M, db);
}

void linear_forward(const float* x, const float* w, const float* b, float* y, int64_t N, int64_t K, int64_t M) {
  // y[N,M] = x[N,K]·wᵀ: A(n,k) = x[n·K + k], B(k,m) = w[m·K + k].
  gemm(N, M, K, x, K, 1, w, 1, K, y, M, false, b);
}

void linear_backward(const float* dy, const float* x, const float* w, float* dx, float* dw, float* db, int64_t N,
                     int64_t K, int64_t M, bool overwrite_dx) {
  // dx[n,k] (+)= Σ_m dy[n,m]·w[m,k]
  if (dx != nullptr) gemm(N, K, M, dy, M, 1, w, K, 1, dx, K, !overwrite_dx, nullptr);
  if (dw != nullptr) gemm(M, K, N, dy, 1, M, x, K, 1, dw, K, true, nullptr);  // dw[m,k] += Σ_n dy[n,m]·x[n,k]
  if (db != nullptr) column_sums_add(dy, N, M, db);
}

}  // namespace ftc
