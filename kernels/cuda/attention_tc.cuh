// The bf16 compute mode's attention: FlashAttention-2 on tensor cores (mma.sync m16n8k16, bf16 operands, fp32
// accumulation), included by attention.cu, which builds the RoPE table and dispatches here in bf16 mode.
// Same op, layout and dropout mask as the fp32 kernels there (DESIGN.md section 3); what changes is what is
// rounded to bf16, as in any bf16 FlashAttention: the rotated q and k, v, and the probabilities P before P·V.
// Scores, the online softmax (running max and sum), lse and the output accumulators stay fp32.
//
// Forward: first one pass converts q and k (rotated) and v to bf16 once, head-major with the head dim padded
// ([B·H][S][DP], zeros beyond d), so that the attention kernel reads them as raw 16-byte copies (cp.async,
// zero-filled past row S) instead of rotating and converting every key tile again in every row block. A block
// owns 64 query rows of one (b, h), four warps of 16 rows each (FlashAttention-2's split: a warp's rows never
// need another warp's data, so the softmax needs no shared memory). Q comes in with the first key tile and
// each warp keeps its A fragments of Q in registers. Key tiles (64 keys; 32 at head dims above 64, to hold the
// registers of d = 128) are double-buffered: the next tile's K and V are in flight (cp.async) while this one
// is multiplied. Each warp forms S = Q·Kᵀ (A = Q fragments, B = K rows through ldmatrix), masks it causally,
// updates its running max and sum with the usual rescaling, and adds P·V with P taken straight from the score
// accumulators (the C fragment of two adjacent n8 tiles is the A fragment of one k16 step) and V through
// ldmatrix.trans. A warp whose 16 rows all lie above a key tile skips it (causal tile skipping).
// Head dims are padded with zeros to DP, a multiple of 16 (zeros add nothing to a dot product).
#pragma once
#include "launch.h"
#include "mma.cuh"
#include "philox.cuh"
#include "rope.cuh"

namespace ftc {
namespace {

constexpr int TCA_ROWS = 64;     // query rows per forward block: 4 warps × 16
constexpr int TCA_THREADS = 128;
constexpr int TCA_PAD = 8;       // bf16 of padding per shared-memory row: the 8 rows one ldmatrix reads fall
                                 // in 8 different 16-byte bank groups for every DP

template <int DP>
struct TcAttn {
  static_assert(DP % 16 == 0 && DP <= 128, "padded head dim: a multiple of 16, at most 128");
  static constexpr int keys = DP > 64 ? 32 : 64;  // keys per forward tile
  static constexpr int ld = DP + TCA_PAD;         // shared-memory row, in bf16
  // Q, then two stages of K and V.
  static constexpr size_t forward_smem = (size_t)(TCA_ROWS + 4 * keys) * ld * sizeof(uint16_t);
};

// The padded head dim of the tensor-core kernels for head dim d (a multiple of 4, at most 128).
inline int tc_head_dim(int d) { return d <= 16 ? 16 : d <= 32 ? 32 : d <= 48 ? 48 : d <= 64 ? 64 : d <= 96 ? 96 : 128; }
// bf16 elements of one staged tensor [B·H][S][DP].
inline int64_t tc_staged_elems(int64_t B, int64_t S, int64_t D, int64_t H) { return B * H * S * tc_head_dim((int)(D / H)); }

// staged[z] = tensor z of (q, k, v, dO) as bf16 [B·H][S][DP]: q and k rotated, features ≥ d zero (the forward
// stages three, gridDim.y = 3; the backward four). One thread per feature pair; consecutive threads read
// consecutive pairs of a row (coalesced) and write one 32-bit word each.
__global__ void attn_tc_stage_kernel(const float* __restrict__ q, const float* __restrict__ k,
                                       const float* __restrict__ v, const float* __restrict__ dout,
                                       uint16_t* __restrict__ staged, const float* __restrict__ tab, int S, int D,
                                       int H, int DP, long long per_tensor) {
  const int z = blockIdx.y, d = D / H, pairs = DP / 2;
  const float* x = z == 0 ? q : z == 1 ? k : z == 2 ? v : dout;
  uint16_t* dst = staged + (long long)z * per_tensor;
  const long long n = per_tensor / 2;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (long long)gridDim.x * blockDim.x) {
    const int pr = (int)(e % pairs), c = 2 * pr;
    const long long row = e / pairs;  // (b·H + h)·S + r
    const int r = (int)(row % S);
    const long long bh = row / S, h = bh % H, b = bh / H;
    float x0 = 0.0f, x1 = 0.0f;
    if (c < d) {  // d is a multiple of 4: c < d implies c + 1 < d
      const long long o = (b * S + r) * D + h * d + c;
      x0 = x[o];
      x1 = x[o + 1];
      if (z < 2) rope_rotate(tab, r, pr, d, &x0, &x1);
    }
    *reinterpret_cast<uint32_t*>(dst + 2 * e) = pack_bf16x2(x0, x1);
  }
}

// rows × DP bf16 from a staged head (rows contiguous, DP each) into shared memory rows of DP + TCA_PAD, as
// 16-byte cp.async copies; rows from `valid` on are zero-filled without a read (past the sequence's end).
// Every thread of the block issues its share (not yet committed).
template <int DP>
__device__ __forceinline__ void copy_rows_async(uint16_t* dst, const uint16_t* __restrict__ src, int rows, int valid) {
  constexpr int CHUNKS = DP / 8;  // 16-byte chunks per row
  for (int e = threadIdx.x; e < rows * CHUNKS; e += blockDim.x) {
    const int r = e / CHUNKS, c = e % CHUNKS;
    const bool in = r < valid;
    cp_async16(dst + r * (DP + TCA_PAD) + c * 8, in ? src + (long long)r * DP + c * 8 : src, in ? 16 : 0);
  }
}

// The max (Op = 0) or sum (Op = 1) over the four lanes of a quad (t = lane % 4), which together hold one row
// of a C fragment. Every lane of the warp calls it.
template <int Op>
__device__ __forceinline__ float quad_reduce(float v) {
#pragma unroll
  for (int m = 1; m <= 2; m <<= 1) {
    const float o = __shfl_xor_sync(FT_FULL_MASK, v, m);
    v = Op == 0 ? fmaxf(v, o) : v + o;
  }
  return v;
}

template <int DP>
__global__ void __launch_bounds__(TCA_THREADS)
    attn_bf16_forward_kernel(const uint16_t* __restrict__ staged, long long per_tensor, float* __restrict__ out,
                             float* __restrict__ lse, int S, int D, int H, DropKey drop) {
  constexpr int BCK = TcAttn<DP>::keys, LD = TcAttn<DP>::ld;
  constexpr int KS = DP / 16;   // k16 steps of Q·Kᵀ
  constexpr int NT = BCK / 8;   // n8 tiles of a score row block
  constexpr int OT = DP / 8;    // n8 tiles of the output
  FT_DYNAMIC_SHARED(uint4, sm_raw);  // uint4: the 16-byte alignment ldmatrix rows need
  uint16_t* sm = reinterpret_cast<uint16_t*>(sm_raw);
  uint16_t* Qs = sm;  // [64][LD]; then stage s: K at Qs + (64 + 2s·BCK)·LD, V right after, [BCK][LD] each
  const int d = D / H, h = blockIdx.y, b = blockIdx.z, row0 = blockIdx.x * TCA_ROWS;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int g = lane / 4, t = lane % 4, jm = lane / 8, r8 = lane % 8;  // fragment and ldmatrix coordinates
  const long long base = (long long)b * S * D + (long long)h * d;
  const uint64_t bh = (uint64_t)b * (uint64_t)H + (uint64_t)h;
  const float scale = rsqrtf((float)d);
  const int wrow0 = row0 + warp * 16;                        // the warp's first query row
  const int wlast = wrow0 + 15 < S - 1 ? wrow0 + 15 : S - 1;  // its last row inside the sequence
  const int block_last = row0 + TCA_ROWS - 1 < S - 1 ? row0 + TCA_ROWS - 1 : S - 1;
  const long long head = (long long)bh * S * DP;  // this (b, h) in each staged tensor
  const uint16_t* qh = staged + head;
  const uint16_t* kh = staged + per_tensor + head;
  const uint16_t* vh = staged + 2 * per_tensor + head;
  auto Kst = [&](int st) { return Qs + (TCA_ROWS + 2 * st * BCK) * LD; };
  auto Vst = [&](int st) { return Qs + (TCA_ROWS + (2 * st + 1) * BCK) * LD; };

  // Group 0: Q and the first key tile.
  copy_rows_async<DP>(Qs, qh + (long long)row0 * DP, TCA_ROWS, S - row0);
  copy_rows_async<DP>(Kst(0), kh, BCK, S);
  copy_rows_async<DP>(Vst(0), vh, BCK, S);
  cp_async_commit();
  uint32_t qf[KS][4];

  float o[OT][4];
#pragma unroll
  for (int ot = 0; ot < OT; ++ot)
#pragma unroll
    for (int i = 0; i < 4; ++i) o[ot][i] = 0.0f;
  // Rows g and g + 8 of the warp's 16: running max and (this lane's partial) sum.
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};

  const int tiles = block_last / BCK + 1;
  for (int tile = 0; tile < tiles; ++tile) {
    const int j0 = tile * BCK;
    if (tile + 1 < tiles) {
      // The next tile into the other stage (consumed in the previous iteration, before its closing barrier),
      // in flight while this one is multiplied.
      copy_rows_async<DP>(Kst((tile + 1) % 2), kh + (long long)(j0 + BCK) * DP, BCK, S - j0 - BCK);
      copy_rows_async<DP>(Vst((tile + 1) % 2), vh + (long long)(j0 + BCK) * DP, BCK, S - j0 - BCK);
      cp_async_commit();
      cp_async_wait<1>();  // this tile's group has landed (this thread's copies)
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // ... and every thread's
    const uint16_t* Ks = Kst(tile % 2);
    const uint16_t* Vs = Vst(tile % 2);
    if (tile == 0) {
#pragma unroll
      for (int ks = 0; ks < KS; ++ks)
        ldmatrix_x4(qf[ks], Qs + (warp * 16 + r8 + (jm % 2) * 8) * LD + ks * 16 + (jm / 2) * 8);
    }
    // No row of this warp sees a key of this tile: skip the products (the barriers stay block-wide).
    if (wrow0 < S && j0 <= wlast) {
      float s[NT][4];
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int i = 0; i < 4; ++i) s[nt][i] = 0.0f;
#pragma unroll
      for (int ks = 0; ks < KS; ++ks) {
#pragma unroll
        for (int p = 0; p < NT / 2; ++p) {
          // Keys 16p..16p+15 × features 16ks..16ks+15, as (keys 0-7, k 0-7), (0-7, 8-15), (8-15, 0-7), (8-15, 8-15).
          uint32_t r[4];
          ldmatrix_x4(r, Ks + (p * 16 + r8 + (jm / 2) * 8) * LD + ks * 16 + (jm % 2) * 8);
          mma_bf16_16816(s[2 * p], qf[ks], r, s[2 * p]);
          mma_bf16_16816(s[2 * p + 1], qf[ks], r + 2, s[2 * p + 1]);
        }
      }

      // Scale and causal mask (keys past the row or past S are −∞), then the rows' new maxima.
      float tmax[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int row = wrow0 + g + (i / 2) * 8, key = j0 + nt * 8 + 2 * t + (i % 2);
          s[nt][i] = (key <= row && key < S) ? s[nt][i] * scale : -INFINITY;
          tmax[i / 2] = fmaxf(tmax[i / 2], s[nt][i]);
        }
      float corr[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        // Finite from the first tile on: key 0 is in every row's first tile.
        const float m_new = fmaxf(m[r], quad_reduce<0>(tmax[r]));
        corr[r] = expf(m[r] - m_new);  // 0 on the first tile (m = −∞)
        m[r] = m_new;
        l[r] *= corr[r];
      }
#pragma unroll
      for (int ot = 0; ot < OT; ++ot)
#pragma unroll
        for (int i = 0; i < 4; ++i) o[ot][i] *= corr[i / 2];

      // P: the sum takes it unrounded and undropped (as the fp32 kernel), P·V the dropped, bf16-rounded value.
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int row = wrow0 + g + (i / 2) * 8, key = j0 + nt * 8 + 2 * t + (i % 2);
          float p = expf(s[nt][i] - m[i / 2]);  // 0 where masked
          l[i / 2] += p;
          if (drop.active && p != 0.0f && row < S) p *= drop_factor(drop, (bh * (uint64_t)S + (uint64_t)row) * (uint64_t)S + (uint64_t)key);
          s[nt][i] = p;
        }
#pragma unroll
      for (int kk = 0; kk < BCK / 16; ++kk) {
        // The C fragments of key tiles 2kk and 2kk+1 are the A fragment of keys 16kk..16kk+15.
        const uint32_t a[4] = {pack_bf16x2(s[2 * kk][0], s[2 * kk][1]), pack_bf16x2(s[2 * kk][2], s[2 * kk][3]),
                               pack_bf16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack_bf16x2(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
        for (int p = 0; p < OT / 2; ++p) {
          // V rows 16kk.. (keys) × features 16p..: transposed, (keys 0-7, f 0-7), (8-15, 0-7), (0-7, 8-15), (8-15, 8-15).
          uint32_t r[4];
          ldmatrix_x4<true>(r, Vs + (kk * 16 + (jm % 2) * 8 + r8) * LD + p * 16 + (jm / 2) * 8);
          mma_bf16_16816(o[2 * p], a, r, o[2 * p]);
          mma_bf16_16816(o[2 * p + 1], a, r + 2, o[2 * p + 1]);
        }
      }
    }
    __syncthreads();  // this stage is consumed before the next iteration refills it
  }

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const float lr = quad_reduce<1>(l[r]);
    const int row = wrow0 + g + r * 8;
    if (row >= S) continue;
    const float inv = 1.0f / lr;
#pragma unroll
    for (int ot = 0; ot < OT; ++ot) {
      const int c = ot * 8 + 2 * t;
      if (c < d) {
        out[base + (long long)row * D + c] = o[ot][2 * r] * inv;
        out[base + (long long)row * D + c + 1] = o[ot][2 * r + 1] * inv;
      }
    }
    if (t == 0) lse[bh * (uint64_t)S + (uint64_t)row] = m[r] + logf(lr);
  }
}

// ---------------------------------------------------------------- backward
// FlashAttention-2's backward, K/V outer: a block owns 64 keys of one (b, h), each warp 16 of them, and keeps
// their dK and dV accumulators in registers while it walks the query tiles at or below the diagonal (BQ rows
// each). Everything is computed transposed, keys as rows, so that a warp's products stay within its keys:
//   Sᵀ = K·Qᵀ, Pᵀ = exp(scale·Sᵀ − lse), dPᵀ = V·dOᵀ, dSᵀ = Pᵀ∘(f·dPᵀ − D)·scale (f: the dropout multiplier),
//   dV += (f·Pᵀ)·dO and dK += dSᵀ·Q with the A fragments taken from those C fragments (as P in the forward).
// dQ = dS·K needs every key of the block for a query row: the warps write dSᵀ to shared memory (bf16, stored
// query-major) and then share out the dQ tile; each part is added into the fp32 dQ buffer (rotated basis)
// with atomicAdd, as the fp32 kernel does, so dq's last bits depend on the order in which key blocks finish.
// K, V, Q and dO are bf16 operands, staged once by attn_tc_stage_kernel (q and k rotated, [B·H][S][DP]) as in
// the forward, so that every tile arrives as raw 16-byte cp.async copies: K and V with the first query tile,
// then Q and dO double-buffered, the next query tile in flight while this one is multiplied. lse and
// D = rowsum(dO∘O) are the forward's fp32 values, loaded beside each query tile.
template <int DP>
struct TcAttnBack {
  static constexpr int keys = 64;                // per block: 4 warps × 16
  static constexpr int rows = DP > 64 ? 32 : 64;  // query rows per tile (the registers of d = 128)
  static constexpr int ld = DP + TCA_PAD;
  static constexpr int ld_ds = keys + TCA_PAD;
  // K, V; two stages of Q and dO; dS; two stages of lse and D.
  static constexpr size_t smem = (size_t)(2 * keys + 4 * rows) * ld * sizeof(uint16_t) +
                                 (size_t)rows * ld_ds * sizeof(uint16_t) + 4 * rows * sizeof(float);
};

template <int DP>
__global__ void __launch_bounds__(TCA_THREADS, 1)
    attn_bf16_backward_kernel(const uint16_t* __restrict__ staged, long long per_tensor, const float* __restrict__ lse,
                              const float* __restrict__ Drow, float* __restrict__ dk, float* __restrict__ dv,
                              float* __restrict__ dQrot, const float* __restrict__ tab, int S, int D, int H, DropKey drop,
                              int accum) {
  using P = TcAttnBack<DP>;
  constexpr int BK = P::keys, BQ = P::rows, LD = P::ld, LDS = P::ld_ds;
  constexpr int KS = DP / 16;  // k16 steps over features
  constexpr int QT = BQ / 8;   // n8 tiles of a warp's Sᵀ rows (queries)
  constexpr int FT = DP / 8;   // n8 tiles of dK, dV (features)
  FT_DYNAMIC_SHARED(uint4, sm_raw);  // uint4: the 16-byte alignment ldmatrix rows need
  uint16_t* sm = reinterpret_cast<uint16_t*>(sm_raw);
  uint16_t* Ks = sm;              // [BK][LD] rotated keys
  uint16_t* Vs = Ks + BK * LD;    // [BK][LD]
  uint16_t* QO = Vs + BK * LD;    // stage s: [BQ][LD] rotated queries at QO + 2s·BQ·LD, then [BQ][LD] dO
  uint16_t* dSs = QO + 4 * BQ * LD;  // [BQ][LDS] dS, query-major
  float* LD0 = reinterpret_cast<float*>(dSs + BQ * LDS);  // stage s: [BQ] lse at LD0 + 2s·BQ, then [BQ] D
  const int d = D / H, h = blockIdx.y, b = blockIdx.z, key0 = blockIdx.x * BK;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int g = lane / 4, t = lane % 4, jm = lane / 8, r8 = lane % 8;
  const long long base = (long long)b * S * D + (long long)h * d;
  const uint64_t bh = (uint64_t)b * (uint64_t)H + (uint64_t)h;
  const float scale = rsqrtf((float)d);
  const int wkey0 = key0 + warp * 16;  // the warp's first key
  const long long head = (long long)bh * S * DP;  // this (b, h) in each staged tensor
  const uint16_t* qh = staged + head;
  const uint16_t* kh = staged + per_tensor + head;
  const uint16_t* vh = staged + 2 * per_tensor + head;
  const uint16_t* oh = staged + 3 * per_tensor + head;

  // Query tile i0 into stage s: Q and dO by cp.async (rows past S zero-filled), lse and D by plain loads
  // (visible after the barrier that follows the tile's wait, as the copies are).
  auto issue = [&](int i0, int s) {
    uint16_t* Qd = QO + 2 * s * BQ * LD;
    const int valid = S - i0 < BQ ? S - i0 : BQ;
    copy_rows_async<DP>(Qd, qh + (long long)i0 * DP, BQ, valid);
    copy_rows_async<DP>(Qd + BQ * LD, oh + (long long)i0 * DP, BQ, valid);
    float* Lt = LD0 + 2 * s * BQ;
    for (int e = threadIdx.x; e < BQ; e += blockDim.x) {
      const int i = i0 + e;
      Lt[e] = i < S ? lse[bh * (uint64_t)S + (uint64_t)i] : 0.0f;
      Lt[BQ + e] = i < S ? Drow[bh * (uint64_t)S + (uint64_t)i] : 0.0f;
    }
  };
  const int first = (key0 / BQ) * BQ;
  {
    const int kvalid = S - key0 < BK ? S - key0 : BK;
    copy_rows_async<DP>(Ks, kh + (long long)key0 * DP, BK, kvalid);
    copy_rows_async<DP>(Vs, vh + (long long)key0 * DP, BK, kvalid);
    issue(first, 0);
    cp_async_commit();  // one group: K, V and the first query tile
  }
  float dka[FT][4], dva[FT][4];
#pragma unroll
  for (int f = 0; f < FT; ++f)
#pragma unroll
    for (int i = 0; i < 4; ++i) dka[f][i] = dva[f][i] = 0.0f;
  // The warp's rows of K and V as A fragments (keys × features), read once: ldmatrix addresses of this lane.
  const uint16_t* ka = Ks + (warp * 16 + r8 + (jm % 2) * 8) * LD + (jm / 2) * 8;
  const uint16_t* va = Vs + (warp * 16 + r8 + (jm % 2) * 8) * LD + (jm / 2) * 8;

  for (int i0 = first, it = 0; i0 < S; i0 += BQ, ++it) {
    const int s = it % 2;
    __syncthreads();  // the previous tile's Q, dO, lse, D (stage 1 − s) and dS consumed
    if (i0 + BQ < S) issue(i0 + BQ, 1 - s);  // in flight while this tile is multiplied
    cp_async_commit();
    cp_async_wait<1>();  // this thread's copies of this tile (and of K, V) have landed
    __syncthreads();     // everyone's have
    const uint16_t* Qs = QO + 2 * s * BQ * LD;
    const uint16_t* dOs = Qs + BQ * LD;
    const float* Ls = LD0 + 2 * s * BQ;
    const float* Ds = Ls + BQ;

    // Sᵀ and dPᵀ for the warp's 16 keys × BQ queries (skipped, as zeros, when every query is above them).
    const bool live = i0 + BQ - 1 >= wkey0 && wkey0 < S;
    float st[QT][4], dpt[QT][4];
#pragma unroll
    for (int n = 0; n < QT; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i) st[n][i] = dpt[n][i] = 0.0f;
    if (live) {
#pragma unroll
      for (int ks = 0; ks < KS; ++ks) {
        uint32_t af[4], vf[4];
        ldmatrix_x4(af, ka + ks * 16);
        ldmatrix_x4(vf, va + ks * 16);
#pragma unroll
        for (int p = 0; p < QT / 2; ++p) {
          // Queries 16p..16p+15 × features 16ks.., as the forward reads keys.
          uint32_t r[4];
          ldmatrix_x4(r, Qs + (p * 16 + r8 + (jm / 2) * 8) * LD + ks * 16 + (jm % 2) * 8);
          mma_bf16_16816(st[2 * p], af, r, st[2 * p]);
          mma_bf16_16816(st[2 * p + 1], af, r + 2, st[2 * p + 1]);
          ldmatrix_x4(r, dOs + (p * 16 + r8 + (jm / 2) * 8) * LD + ks * 16 + (jm % 2) * 8);
          mma_bf16_16816(dpt[2 * p], vf, r, dpt[2 * p]);
          mma_bf16_16816(dpt[2 * p + 1], vf, r + 2, dpt[2 * p + 1]);
        }
      }
      // In place: st becomes f·Pᵀ, dpt becomes dSᵀ.
#pragma unroll
      for (int n = 0; n < QT; ++n)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int key = wkey0 + g + (i / 2) * 8, qq = n * 8 + 2 * t + (i % 2), row = i0 + qq;
          float p = 0.0f, ds = 0.0f;
          if (key <= row && row < S) {
            p = expf(st[n][i] * scale - Ls[qq]);
            const float f = drop.active ? drop_factor(drop, (bh * (uint64_t)S + (uint64_t)row) * (uint64_t)S + (uint64_t)key) : 1.0f;
            ds = p * (dpt[n][i] * f - Ds[qq]) * scale;
            p *= f;
          }
          st[n][i] = p;
          dpt[n][i] = ds;
        }
    }
    // dSᵀ into shared memory, query-major, for dQ (zeros from a skipped warp).
#pragma unroll
    for (int n = 0; n < QT; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int kk = warp * 16 + g + (i / 2) * 8, qq = n * 8 + 2 * t + (i % 2);
        dSs[qq * LDS + kk] = (uint16_t)bf16_bits(dpt[n][i]);
      }
    if (live) {
      // dV += (f·P)ᵀ·dO and dK += dSᵀ·Q: k16 steps over queries; dO and Q rows through ldmatrix.trans.
#pragma unroll
      for (int kq = 0; kq < BQ / 16; ++kq) {
        const uint32_t pa[4] = {pack_bf16x2(st[2 * kq][0], st[2 * kq][1]), pack_bf16x2(st[2 * kq][2], st[2 * kq][3]),
                                pack_bf16x2(st[2 * kq + 1][0], st[2 * kq + 1][1]), pack_bf16x2(st[2 * kq + 1][2], st[2 * kq + 1][3])};
        const uint32_t sa[4] = {pack_bf16x2(dpt[2 * kq][0], dpt[2 * kq][1]), pack_bf16x2(dpt[2 * kq][2], dpt[2 * kq][3]),
                                pack_bf16x2(dpt[2 * kq + 1][0], dpt[2 * kq + 1][1]),
                                pack_bf16x2(dpt[2 * kq + 1][2], dpt[2 * kq + 1][3])};
#pragma unroll
        for (int p = 0; p < FT / 2; ++p) {
          uint32_t r[4];
          const int off = (kq * 16 + (jm % 2) * 8 + r8) * LD + p * 16 + (jm / 2) * 8;
          ldmatrix_x4<true>(r, dOs + off);
          mma_bf16_16816(dva[2 * p], pa, r, dva[2 * p]);
          mma_bf16_16816(dva[2 * p + 1], pa, r + 2, dva[2 * p + 1]);
          ldmatrix_x4<true>(r, Qs + off);
          mma_bf16_16816(dka[2 * p], sa, r, dka[2 * p]);
          mma_bf16_16816(dka[2 * p + 1], sa, r + 2, dka[2 * p + 1]);
        }
      }
    }
    __syncthreads();  // dS complete
    // dQ_rot[i0.., :] += dS·K over the block's 64 keys: (16-row tile, 16-feature pair of n8 tiles) items
    // shared out over the warps; A = dS rows, B = K rows through ldmatrix.trans.
    for (int item = warp; item < (BQ / 16) * (DP / 16); item += TCA_THREADS / 32) {
      const int mt = item % (BQ / 16), fp = item / (BQ / 16);
      if (i0 + mt * 16 >= S) continue;
      float acc[2][4] = {{0.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};
#pragma unroll
      for (int kk = 0; kk < BK / 16; ++kk) {
        uint32_t a[4], r[4];
        ldmatrix_x4(a, dSs + (mt * 16 + r8 + (jm % 2) * 8) * LDS + kk * 16 + (jm / 2) * 8);
        ldmatrix_x4<true>(r, Ks + (kk * 16 + (jm % 2) * 8 + r8) * LD + fp * 16 + (jm / 2) * 8);
        mma_bf16_16816(acc[0], a, r, acc[0]);
        mma_bf16_16816(acc[1], a, r + 2, acc[1]);
      }
#pragma unroll
      for (int n = 0; n < 2; ++n)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int row = i0 + mt * 16 + g + (i / 2) * 8, c = fp * 16 + n * 8 + 2 * t + (i % 2);
          if (row < S && c < d && acc[n][i] != 0.0f) atomicAdd(&dQrot[(bh * (uint64_t)S + (uint64_t)row) * (uint64_t)d + (uint64_t)c], acc[n][i]);
        }
    }
  }
  cp_async_wait<0>();  // only empty groups remain; leave none behind

  // dk: rotated back by −angle (Rᵀ); dv as it is. A lane holds features 2t, 2t+1 of each n8 tile: a RoPE pair.
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int j = wkey0 + g + r * 8;
    if (j >= S) continue;
#pragma unroll
    for (int f = 0; f < FT; ++f) {
      const int c = f * 8 + 2 * t;
      if (c >= d) continue;
      float g0 = dka[f][2 * r], g1 = dka[f][2 * r + 1];
      if (c / 2 < d / 4) {
        float cs, sn;
        rope_cs(tab, j, c / 2, d, &cs, &sn);
        const float y0 = g0 * cs + g1 * sn, y1 = g1 * cs - g0 * sn;
        g0 = y0;
        g1 = y1;
      }
      const long long o = base + (long long)j * D + c;
      // accum = 0 (overwrite): the old values are not read.
      dk[o] = accum ? dk[o] + g0 : g0;
      dk[o + 1] = accum ? dk[o + 1] + g1 : g1;
      dv[o] = accum ? dv[o] + dva[f][2 * r] : dva[f][2 * r];
      dv[o + 1] = accum ? dv[o + 1] + dva[f][2 * r + 1] : dva[f][2 * r + 1];
    }
  }
}

template <int DP>
void backward_tc(const uint16_t* staged, long long per_tensor, const float* lse, const float* Drow, float* dk, float* dv,
                 float* dQrot, const float* tab, int B, int S, int D, int H, const DropKey& drop, int accum) {
  const dim3 grid((unsigned)((S + TcAttnBack<DP>::keys - 1) / TcAttnBack<DP>::keys), (unsigned)H, (unsigned)B);
  const size_t bytes = TcAttnBack<DP>::smem;
  if (bytes > 48 * 1024) {
    // Above 48 KB a kernel must opt in (DP ≥ 64 with the double-buffered query tiles: 65 KB at DP = 64, 74 KB
    // at 128; tensor-core devices allow 99 KB or more).
    cudaFuncSetAttribute(attn_bf16_backward_kernel<DP>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
  }
  FT_LAUNCH(attn_bf16_backward_kernel<DP>, grid, dim3(TCA_THREADS), bytes, staged, per_tensor, lse, Drow, dk, dv, dQrot,
            tab, S, D, H, drop, accum);
}

// The tensor-core backward's middle step (the caller has built the RoPE table, zeroed dQ_rot and formed D):
// q and k (rotated), v and dO staged as bf16 into `staged` (4 × tc_staged_elems), then the kernel on them.
void attention_backward_tc(const float* dout, const float* q, const float* k, const float* v, const float* lse,
                           const float* Drow, float* dk, float* dv, float* dQrot, const float* tab, uint16_t* staged,
                           int B, int S, int D, int H, const DropKey& drop, int accum) {
  const int DP = tc_head_dim(D / H);
  const long long per_tensor = (long long)tc_staged_elems(B, S, D, H);
  const long long pairs = per_tensor / 2, blocks = (pairs + 255) / 256;
  const dim3 grid((unsigned)(blocks < 4096 ? blocks : 4096), 4);
  FT_LAUNCH(attn_tc_stage_kernel, grid, dim3(256), 0, q, k, v, dout, staged, tab, S, D, H, DP, per_tensor);
  if (DP == 16) backward_tc<16>(staged, per_tensor, lse, Drow, dk, dv, dQrot, tab, B, S, D, H, drop, accum);
  else if (DP == 32) backward_tc<32>(staged, per_tensor, lse, Drow, dk, dv, dQrot, tab, B, S, D, H, drop, accum);
  else if (DP == 48) backward_tc<48>(staged, per_tensor, lse, Drow, dk, dv, dQrot, tab, B, S, D, H, drop, accum);
  else if (DP == 64) backward_tc<64>(staged, per_tensor, lse, Drow, dk, dv, dQrot, tab, B, S, D, H, drop, accum);
  else if (DP == 96) backward_tc<96>(staged, per_tensor, lse, Drow, dk, dv, dQrot, tab, B, S, D, H, drop, accum);
  else backward_tc<128>(staged, per_tensor, lse, Drow, dk, dv, dQrot, tab, B, S, D, H, drop, accum);
}

template <int DP>
void forward_tc(const uint16_t* staged, long long per_tensor, float* out, float* lse, int B, int S, int D, int H,
                const DropKey& drop) {
  const dim3 grid((unsigned)((S + TCA_ROWS - 1) / TCA_ROWS), (unsigned)H, (unsigned)B);
  const size_t bytes = TcAttn<DP>::forward_smem;
  if (bytes > 48 * 1024) {
    // Above 48 KB a kernel must opt in (DP = 128: 51 KB).
    cudaFuncSetAttribute(attn_bf16_forward_kernel<DP>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
  }
  FT_LAUNCH(attn_bf16_forward_kernel<DP>, grid, dim3(TCA_THREADS), bytes, staged, per_tensor, out, lse, S, D, H,
            drop);
}

// The tensor-core forward for head dim d = D/H ≤ 128: q, k, v staged as bf16 into `staged` (3 ×
// tc_staged_elems), then the attention on them.
void attention_forward_tc(const float* q, const float* k, const float* v, float* out, float* lse, const float* tab,
                          uint16_t* staged, int B, int S, int D, int H, const DropKey& drop) {
  const int DP = tc_head_dim(D / H);
  const long long per_tensor = (long long)tc_staged_elems(B, S, D, H);
  const long long pairs = per_tensor / 2, blocks = (pairs + 255) / 256;
  const dim3 grid((unsigned)(blocks < 4096 ? blocks : 4096), 3);
  FT_LAUNCH(attn_tc_stage_kernel, grid, dim3(256), 0, q, k, v, nullptr, staged, tab, S, D, H, DP, per_tensor);
  if (DP == 16) forward_tc<16>(staged, per_tensor, out, lse, B, S, D, H, drop);
  else if (DP == 32) forward_tc<32>(staged, per_tensor, out, lse, B, S, D, H, drop);
  else if (DP == 48) forward_tc<48>(staged, per_tensor, out, lse, B, S, D, H, drop);
  else if (DP == 64) forward_tc<64>(staged, per_tensor, out, lse, B, S, D, H, drop);
  else if (DP == 96) forward_tc<96>(staged, per_tensor, out, lse, B, S, D, H, drop);
  else forward_tc<128>(staged, per_tensor, out, lse, B, S, D, H, drop);
}

}  // namespace
}  // namespace ftc
