// Single-precision GEMM for the CPU backend: C[m,n] (+)= A[m,k] · B[k,n] (+ bias[n]), with A and B read
// through strides so that one routine serves the three products of a Linear layer without transposing:
//   forward  y  = x · Wᵀ   (B(p, j) = W[j*K + p])
//   backward dx += dy · W,   dW += dyᵀ · x.
// BLIS-style: A and B are packed into micro-panels (zero-padded, each once per call, on first use), a
// register-blocked micro-kernel (AVX-512 14×32, AVX2 6×16, scalar 4×8, chosen by ft::active_isa()) runs over
// them, and tiles of C are taken by the pool's threads dynamically (gemm.cc describes the blocking).
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
// relu: then C = C > 0 ? C : 0, applied to each tile of C as soon as its last KC block is done (still in
// cache), instead of a separate pass over the whole output.
// gate (only with accumulate = false; laid out as C, leading dimension ldc): C = gate > 0 ? C : 0, the relu
// backward of the layer below fused into this product's epilogue, applied like relu. gate_scale (only with a
// gate; finite, > 0): C = gate > 0 ? C·gate_scale : 0, the relu backward through a dropout whose output is the
// gate (linearBackward's reluScale).
// addend (only with accumulate = false and no split; laid out as C, leading dimension ldc; not C's storage):
// C = addend + C after everything above, in the same epilogue: linear's residual (y = residual + x·wᵀ + b).
// Split: G products that share one operand, run as one GEMM (linearFanout: q, k and v from one activation).
//   Cols (the forward): n = G·size; column j = g·size + c of C lives at C + g·stride + c (its rows still ldc
//     apart, the gate likewise); B and the bias are indexed by j as in an unsplit call.
//   Rows (dW): m = G·size; row i = g·size + r of A is read at A.data + g·stride + r·row_stride; C is indexed by i.
//   Depth (dx = Σ_g dy[g]·w[g]): k = G·size; A(i, p) for p = g·size + q is read at A.data + g·stride +
//     i·row_stride + q·col_stride; B is indexed by p as usual (the stacked weights); no relu or gate.
// The shared operand (A, or B) is then packed once instead of G times (Depth: C is written once instead of
// G times). No micro-panel straddles two blocks: each block's last one is padded, as a separate call's
// would be. A Depth split runs as G products into C where A would be read in place (the fp32 kernels at
// narrow n), or where size is not a multiple of 32 (a packed k step never straddles two blocks).
struct Split {
  enum Dim { Rows, Cols, Depth } dim;
  int64_t size;    // rows (columns, k values) per block, ≥ 1, dividing m (n, k)
  int64_t stride;  // elements from one block to the next: of A (Rows, Depth) or of C (Cols)
};

// a_sums (m floats; its own storage): A's row sums as well, a_sums[i] (+)= Σ_p A(i, p), summed in double over p in
// order and rounded once, bit-identical to column_sums_add over Aᵀ (dW's db = Σ_n dy from dyᵀ, the A of dW).
// Taken only where the call packs a column-major A (row_stride 1) for AMX without a depth split, each panel's
// columns then summed from cache right after the pack (dy read once for dW and db, not twice); returns whether it
// did (false: a_sums untouched, the caller sums). a_sums_accumulate: add to a_sums instead of overwriting.
bool gemm(int64_t m, int64_t n, int64_t k, Matrix A, Matrix B, float* C, int64_t ldc, bool accumulate,
          const float* bias, bool relu = false, const float* gate = nullptr, const Split* split = nullptr,
          float gate_scale = 1.0f, const float* addend = nullptr, float* a_sums = nullptr,
          bool a_sums_accumulate = false);

// Precision of the multiplications: Fp32 (default), or Bf16 (A and B rounded to bfloat16, products summed in
// fp32 with AVX512_BF16 dot products; only on CPUs with AVX512_BF16 and when the active ISA is AVX-512, else
// the fp32 kernels run). Process-wide; set it between calls, not during one.
enum class GemmCompute : int { Fp32 = 0, Bf16 = 1 };
void set_gemm_compute(GemmCompute mode);
GemmCompute gemm_compute();
// This CPU can run the bf16 kernels.
bool gemm_bf16_supported();
// The bf16 mode runs on AMX tiles (AMX-BF16 present, the OS grants the tile state, not disallowed); else it
// uses AVX512_BF16 dot products. set_gemm_bf16_amx(false) forces the latter (tests cover both).
bool gemm_bf16_uses_amx();
void set_gemm_bf16_amx(bool allow);
// A column-major A (dyᵀ in dW) is read in place where that pays (see direct_a() in gemm.cc): by default only on
// AMD CPUs, whose prefetchers follow its page-sized strides; elsewhere it is packed. Results are bit-identical
// either way; set_gemm_direct_columns overrides the default (tests cover both routes on any CPU).
bool gemm_direct_columns();
void set_gemm_direct_columns(bool allow);
// A row-major A whose rows all fall in one L1 set (row strides a multiple of the set period: the 19m's 2048
// floats) is read in place by a 10-row kernel by default only on AMD CPUs; elsewhere it is packed (gemm.cc,
// before kDirectConflictRows). Bit-identical either way; set_gemm_direct_set_rows overrides the default.
bool gemm_direct_set_rows();
void set_gemm_direct_set_rows(bool allow);
// Products whose rows all fit one row block of tiles (up to 280 fp32 rows, 320 on AMX: the B = 8 products) have
// each tile pack its own B panels into a buffer of its thread's, by default except on AMD CPUs (gemm.cc,
// private_b); elsewhere the tiles share one packed copy of B. Bit-identical either way;
// set_gemm_private_b_panels overrides the default.
bool gemm_private_b_panels();
void set_gemm_private_b_panels(bool allow);

// Σ_rows of a row-major [rows, cols] matrix added into out[cols] (the bias gradient), in double; with
// accumulate = false written over out instead.
void column_sums_add(const float* x, int64_t rows, int64_t cols, float* out, bool accumulate = true);

}  // namespace ft
