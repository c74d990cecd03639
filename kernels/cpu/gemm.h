// Single-precision GEMM for the CPU backend: C[m,n] (+)= A[m,k] · B[k,n] (+ bias[n]), with A and B read
// through strides so that one routine serves the three products of a Linear layer without transposing:
//   forward  y  = x · Wᵀ   (B(p, j) = W[j*K + p])
//   backward dx += dy · W,   dW += dyᵀ · x.
// BLIS-style: B and A are packed into micro-panels (zero-padded), a register-blocked micro-kernel
// (AVX-512 8×32, AVX2 6×16, scalar 4×8, chosen by ft::active_isa()) runs over them, and independent
// tiles of C are spread over the thread pool.
#pragma once
#include <cstdint>

namespace ft {

struct Matrix {
  const float* data;
  int64_t row_stride;  // distance between (i, p) and (i + 1, p)
  int64_t col_stride;  // distance between (i, p) and (i, p + 1)
};

// accumulate = false: C = A·B (+ bias); accumulate = true: C += A·B (+ bias). bias may be null.
// C is row-major with leading dimension ldc. m, n ≥ 1; k ≥ 0 (k = 0 gives the bias alone / no change).
void gemm(int64_t m, int64_t n, int64_t k, Matrix A, Matrix B, float* C, int64_t ldc, bool accumulate,
          const float* bias);

// Σ_rows of a row-major [rows, cols] matrix added into out[cols] (the bias gradient), in double.
void column_sums_add(const float* x, int64_t rows, int64_t cols, float* out);

}  // namespace ft
