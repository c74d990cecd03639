// Fused causal attention with partial interleaved RoPE (DESIGN.md section 3), FlashAttention-2 style.
// Layout: q, k, v, out [B,S,D] with H heads of d = D/H side by side; lse [B,H,S] (natural log).
// RoPE: the first d/2 features of a head rotate in pairs (2j, 2j+1), j < d/4, by pos·10000^(−2j/(d/2)).
//
// Forward: a block owns BR = 64 query rows of one (b, h), one thread per row; the row's rotated q and its
// output accumulator live in registers (arrays sized by the template bound DMAX ≥ d). Head dims above 64
// (the 1b model's 128) split each row over a pair of adjacent lanes (Split<DMAX>::lanes = 2): each holds
// half of the head's features, and a dot product is the two halves' partial sums joined by one
// __shfl_xor_sync, so a thread's registers are those of d = 64. Key/value tiles of
// BC = 32 rows are staged in shared memory (keys rotated on load); per tile the scores are formed (in the
// thread's own padded row of shared memory, which keeps DM = 64 free of register spills), the
// running max and sum are rescaled once (online softmax), and only lse = m + log l is kept.
// Backward: K/V-outer loop. A block owns BC = 32 keys (one thread each, a lane pair above d = 64: dk, dv
// accumulate in registers,
// k and v sit in padded shared memory); it walks the query tiles at or below the diagonal, recomputes
// P = exp(s − lse), uses D = rowsum(dO∘O) (precomputed), writes dS to shared memory and adds the block's
// dQ = dS·K into an fp32 buffer with atomicAdd. A last kernel rotates dQ back and adds it into dq.
// Attention dropout: element ((b·H + h)·S + i)·S + j of the Philox mask multiplies P[i, j] (not lse).
// In the bf16 compute mode the forward and the backward's middle kernel run on tensor cores instead
// (attention_tc.cuh); the RoPE table, D and the dQ rotation back are shared.
#include <map>
#include <mutex>
#include <utility>

#include "launch.h"
#include "ops.h"
#include "rope.cuh"
#include "attention_tc.cuh"

namespace ftc {
namespace {

constexpr int BR = 64;  // forward: query rows per block (= threads)
constexpr int BC = 32;  // keys per tile (forward) / keys per block (backward, = threads)
constexpr int BQ = 32;  // backward: query rows per tile

// The RoPE table: (cos, sin) of pos·10000^(−2·pair/(d/2)) for pos < S, pair < d/4, computed in double
// by a small kernel before the attention kernels, which then only read it (no trigonometry, and so no
// call or local memory, inside them).
__global__ void rope_table_kernel(float* __restrict__ tab, int S, int d) {
  const int pairs = d / 4;
  for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < S * pairs; e += gridDim.x * blockDim.x) {
    const int pos = e / pairs, pair = e % pairs;
    const double ang = (double)pos * pow(10000.0, -2.0 * (double)pair / (double)(d / 2));
    tab[2 * e] = (float)cos(ang);
    tab[2 * e + 1] = (float)sin(ang);
  }
}

// Loads rows [r0, r0 + rows) of head (b, h) of x into dst[rows][ld], rotated (when rotate) with position =
// row index; rows ≥ S are zero. Called by every thread of the block.
__device__ __forceinline__ void load_rows(const float* __restrict__ x, long long base, int D, int S, int d, int r0,
                                          int rows, const float* __restrict__ tab, float* dst, int ld) {
  const bool rotate = tab != nullptr;
  const int half = d / 2;
  for (int e = threadIdx.x; e < rows * half; e += blockDim.x) {
    const int rr = e / half, pr = e % half, r = r0 + rr, c = 2 * pr;
    float x0 = 0.0f, x1 = 0.0f;
    if (r < S) {
      x0 = x[base + (long long)r * D + c];
      x1 = x[base + (long long)r * D + c + 1];
      if (rotate) rope_rotate(tab, r, pr, d, &x0, &x1);
    }
    dst[rr * ld + c] = x0;
    dst[rr * ld + c + 1] = x1;
  }
}

// Lanes per row (or per key) and features per lane for the head-dim bound DMAX.
template <int DMAX>
struct Split {
  static constexpr int lanes = DMAX > 64 ? 2 : 1;
  static constexpr int dm = DMAX / lanes;  // register arrays per thread
  // Backward query rows per tile: half as many for split rows, so that d = 128 needs 51.6 KB of shared
  // memory (an opt-in above 48 KB that sm_75's 64 KB still allows) rather than 70 KB.
  static constexpr int bq = BQ / lanes;
};

// The sum of a pair's partial dot products: every lane of the warp must call it (the shuffle's full mask),
// so callers compute a partial even for rows they then mask. a + b and b + a are the same float, so both
// lanes of a pair hold bit-identical sums.
template <int LANES>
__device__ __forceinline__ float pair_sum(float partial) {
  if constexpr (LANES == 1) return partial;
  else return partial + __shfl_xor_sync(FT_FULL_MASK, partial, 1);
}

template <int DMAX>
// No __launch_bounds__ here: with it, ptxas for sm_75/sm_80 spilled 12 bytes (scripts/cuda-check.sh).
__global__ void attn_forward_kernel(const float* __restrict__ q, const float* __restrict__ k,
                                    const float* __restrict__ v, float* __restrict__ out, float* __restrict__ lse,
                                    const float* __restrict__ tab, int S, int D, int H, DropKey drop) {
  constexpr int LANES = Split<DMAX>::lanes, DM = Split<DMAX>::dm;
  FT_DYNAMIC_SHARED(float, smem);
  const int d = D / H;
  const int r = threadIdx.x / LANES, part = threadIdx.x % LANES;
  const int dp = d / LANES, c0 = part * dp;   // this lane's features [c0, c0 + dp); dp is even (d % 4 == 0)
  float* Ks = smem;           // [BC][d], rotated
  float* Vs = smem + BC * d;  // [BC][d]
  // The row's scores of the tile (padded rows): both lanes of a pair write the same values.
  float* sc = Vs + BC * d + r * (BC + 1);
  const int h = blockIdx.y, b = blockIdx.z;
  const int row0 = blockIdx.x * BR;
  const int i = row0 + r;
  const bool row_ok = i < S;
  const long long base = (long long)b * S * D + (long long)h * d;
  const float scale = rsqrtf((float)d);

  float qr[DM], o[DM];
#pragma unroll
  for (int c = 0; c < DM; c += 2) {
    float x0 = 0.0f, x1 = 0.0f;
    if (row_ok && c < dp) {
      x0 = q[base + (long long)i * D + c0 + c];
      x1 = q[base + (long long)i * D + c0 + c + 1];
      if ((c0 + c) / 2 < d / 4) {
        float cs, sn;
        rope_cs(tab, i, (c0 + c) / 2, d, &cs, &sn);
        const float y0 = x0 * cs - x1 * sn, y1 = x1 * cs + x0 * sn;
        x0 = y0;
        x1 = y1;
      }
    }
    qr[c] = x0;
    qr[c + 1] = x1;
    o[c] = 0.0f;
    o[c + 1] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  const int last_row = (row0 + BR - 1 < S - 1) ? row0 + BR - 1 : S - 1;
  const uint64_t drop_row = ((uint64_t)(b * H + h) * S + (uint64_t)i) * (uint64_t)S;

  for (int j0 = 0; j0 <= last_row; j0 += BC) {
    __syncthreads();  // the previous tile is consumed
    load_rows(k, base, D, S, d, j0, BC, tab, Ks, d);
    load_rows(v, base, D, S, d, j0, BC, nullptr, Vs, d);
    __syncthreads();
    const bool active = row_ok && j0 <= i;
    // A split row's lanes shuffle inside the score loop, so every lane runs it; inactive rows mask after.
    if (LANES > 1 || active) {
      float tmax = -INFINITY;
      for (int jj = 0; jj < BC; ++jj) {
        float dot = 0.0f;
        if (j0 + jj <= i) {
#pragma unroll
          for (int c = 0; c < DM; ++c)
            if (c < dp) dot = fmaf(qr[c], Ks[jj * d + c0 + c], dot);
        }
        dot = pair_sum<LANES>(dot);
        const float s = (active && j0 + jj <= i) ? dot * scale : -INFINITY;
        sc[jj] = s;
        tmax = fmaxf(tmax, s);
      }
      if (active) {
        const float m_new = fmaxf(m, tmax);
        const float corr = expf(m - m_new);  // 0 on the first tile (m = −∞)
        l *= corr;
#pragma unroll
        for (int c = 0; c < DM; ++c) o[c] *= corr;
        for (int jj = 0; jj < BC; ++jj) {
          const float p = expf(sc[jj] - m_new);  // 0 above the diagonal
          l += p;
          const float pf = (p != 0.0f && drop.active) ? p * drop_factor(drop, drop_row + (uint64_t)(j0 + jj)) : p;
#pragma unroll
          for (int c = 0; c < DM; ++c)
            if (c < dp) o[c] = fmaf(pf, Vs[jj * d + c0 + c], o[c]);
        }
        m = m_new;
      }
    }
  }
  if (row_ok) {
    const float inv = 1.0f / l;
#pragma unroll
    for (int c = 0; c < DM; ++c)
      if (c < dp) out[base + (long long)i * D + c0 + c] = o[c] * inv;
    if (part == 0) lse[(long long)(b * H + h) * S + i] = m + logf(l);
  }
}

// Drow[(b·H + h)·S + i] = Σ_c dout·out over the head (FlashAttention-2's D). bf16: dout rounded to bf16 as the
// tensor-core backward rounds it in dP = dO·Vᵀ, so that Σ_j P_ij·(dP_ij − D_i) stays 0 (the softmax
// Jacobian's rows sum to zero); with fp32 dO here, dq would gain a bias along the mean key.
__global__ void attn_backward_pre_kernel(const float* __restrict__ dout, const float* __restrict__ out,
                                         float* __restrict__ Drow, int B, int S, int D, int H, int bf16) {
  const int d = D / H;
  const long long rows = (long long)B * H * S;
  for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += (long long)gridDim.x * blockDim.x) {
    const long long i = r % S, bh = r / S, h = bh % H, b = bh / H;
    const long long o = (b * S + i) * D + h * d;
    float s = 0.0f;
    for (int c = 0; c < d; ++c) s += (bf16 ? bf16_round(dout[o + c]) : dout[o + c]) * out[o + c];
    Drow[r] = s;
  }
}

template <int DMAX>
__global__ void __launch_bounds__(BC * Split<DMAX>::lanes)
    attn_backward_kernel(const float* __restrict__ dout, const float* __restrict__ q, const float* __restrict__ k,
                         const float* __restrict__ v, const float* __restrict__ lse, const float* __restrict__ Drow,
                         float* __restrict__ dk, float* __restrict__ dv, float* __restrict__ dQrot,
                         const float* __restrict__ tab, int S, int D, int H, DropKey drop, int accum) {
  constexpr int LANES = Split<DMAX>::lanes, DM = Split<DMAX>::dm, TQ = Split<DMAX>::bq;
  FT_DYNAMIC_SHARED(float, smem);
  const int d = D / H, ldk = d + 1;
  float* Ks = smem;                 // [BC][d+1] rotated keys (padded: thread j reads its own row)
  float* Vs = Ks + BC * ldk;        // [BC][d+1]
  float* Qs = Vs + BC * ldk;        // [TQ][d] rotated queries
  float* dOs = Qs + TQ * d;         // [TQ][d]
  float* Ls = dOs + TQ * d;         // [TQ] lse
  float* Ds = Ls + TQ;              // [TQ] D
  float* dS = Ds + TQ;              // [TQ][BC+1]
  const int h = blockIdx.y, b = blockIdx.z;
  const int key0 = blockIdx.x * BC;
  const int jj = threadIdx.x / LANES, part = threadIdx.x % LANES, j = key0 + jj;
  const int dp = d / LANES, c0 = part * dp;  // this lane's features [c0, c0 + dp)
  const long long base = (long long)b * S * D + (long long)h * d;
  const long long bh = (long long)(b * H + h);
  const float scale = rsqrtf((float)d);

  load_rows(k, base, D, S, d, key0, BC, tab, Ks, ldk);
  load_rows(v, base, D, S, d, key0, BC, nullptr, Vs, ldk);
  float dkr[DM], dvr[DM];
#pragma unroll
  for (int c = 0; c < DM; ++c) {
    dkr[c] = 0.0f;
    dvr[c] = 0.0f;
  }
  const float* kj = Ks + jj * ldk + c0;
  const float* vj = Vs + jj * ldk + c0;

  for (int i0 = (key0 / TQ) * TQ; i0 < S; i0 += TQ) {
    __syncthreads();  // K/V loaded (first pass) or the previous query tile consumed
    load_rows(q, base, D, S, d, i0, TQ, tab, Qs, d);
    load_rows(dout, base, D, S, d, i0, TQ, nullptr, dOs, d);
    for (int e = threadIdx.x; e < TQ; e += blockDim.x) {
      const int i = i0 + e;
      Ls[e] = i < S ? lse[bh * S + i] : 0.0f;
      Ds[e] = i < S ? Drow[bh * S + i] : 0.0f;
    }
    __syncthreads();
    for (int ii = 0; ii < TQ; ++ii) {
      const int i = i0 + ii;
      const bool live = j < S && i < S && i >= j;
      const float* qi = Qs + ii * d + c0;
      const float* doi = dOs + ii * d + c0;
      float dot = 0.0f, dpv = 0.0f;
      if (live) {
#pragma unroll
        for (int c = 0; c < DM; ++c) {
          if (c < dp) {
            dot = fmaf(qi[c], kj[c], dot);
            dpv = fmaf(doi[c], vj[c], dpv);
          }
        }
      }
      dot = pair_sum<LANES>(dot);  // every lane: the shuffle names the whole warp
      dpv = pair_sum<LANES>(dpv);
      float ds = 0.0f;
      if (live) {
        const float p = expf(dot * scale - Ls[ii]);
        const float f = drop.active ? drop_factor(drop, ((uint64_t)bh * S + (uint64_t)i) * (uint64_t)S + (uint64_t)j) : 1.0f;
        const float pf = p * f;
        ds = p * (dpv * f - Ds[ii]) * scale;
#pragma unroll
        for (int c = 0; c < DM; ++c) {
          if (c < dp) {
            dvr[c] = fmaf(pf, doi[c], dvr[c]);
            dkr[c] = fmaf(ds, qi[c], dkr[c]);
          }
        }
      }
      dS[ii * (BC + 1) + jj] = ds;  // both lanes of a pair write the same value
    }
    __syncthreads();
    // dQ_rot[i, c] += Σ_j dS[i, j]·K_rot[j, c] for this block's keys.
    for (int e = threadIdx.x; e < TQ * d; e += blockDim.x) {
      const int ii = e / d, c = e % d, i = i0 + ii;
      if (i >= S) continue;
      float acc = 0.0f;
      for (int t = 0; t < BC; ++t) acc = fmaf(dS[ii * (BC + 1) + t], Ks[t * ldk + c], acc);
      if (acc != 0.0f) atomicAdd(&dQrot[(bh * S + i) * d + c], acc);
    }
  }
  if (j < S) {
    // dk: rotate back by −angle (Rᵀ), then add; dv: add.
#pragma unroll
    for (int c = 0; c < DM; c += 2) {
      if (c < dp) {
        float g0 = dkr[c], g1 = dkr[c + 1];
        if ((c0 + c) / 2 < d / 4) {
          float cs, sn;
          rope_cs(tab, j, (c0 + c) / 2, d, &cs, &sn);
          const float y0 = g0 * cs + g1 * sn, y1 = g1 * cs - g0 * sn;
          g0 = y0;
          g1 = y1;
        }
        const long long o = base + (long long)j * D + c0 + c;
        // accum = 0 (overwrite): the old values are not read.
        dk[o] = accum ? dk[o] + g0 : g0;
        dk[o + 1] = accum ? dk[o + 1] + g1 : g1;
        dv[o] = accum ? dv[o] + dvr[c] : dvr[c];
        dv[o + 1] = accum ? dv[o + 1] + dvr[c + 1] : dvr[c + 1];
      }
    }
  }
}

// dq[b, i, h·d + c] += R(−angle)·dQ_rot[(b·H + h)·S + i, c], one thread per (row, pair).
__global__ void attn_backward_post_kernel(const float* __restrict__ dQrot, float* __restrict__ dq,
                                          const float* __restrict__ tab, int B, int S, int D, int H, int accum) {
  const int d = D / H, half = d / 2;
  const long long n = (long long)B * H * S * half;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (long long)gridDim.x * blockDim.x) {
    const int pr = (int)(e % half);
    const long long r = e / half;
    const int i = (int)(r % S);
    const long long bh = r / S, h = bh % H, b = bh / H;
    const int c = 2 * pr;
    float g0 = dQrot[r * d + c], g1 = dQrot[r * d + c + 1];
    if (pr < d / 4) {
      float cs, sn;
      rope_cs(tab, i, pr, d, &cs, &sn);
      const float y0 = g0 * cs + g1 * sn, y1 = g1 * cs - g0 * sn;
      g0 = y0;
      g1 = y1;
    }
    const long long o = (b * S + i) * D + h * d + c;
    dq[o] = accum ? dq[o] + g0 : g0;
    dq[o + 1] = accum ? dq[o + 1] + g1 : g1;
  }
}

unsigned grid_stride_blocks(long long n, int threads) {
  const long long b = (n + threads - 1) / threads;
  return (unsigned)(b < 4096 ? (b < 1 ? 1 : b) : 4096);
}

void rope_table(float* tab, int S, int d) {
  FT_LAUNCH(rope_table_kernel, grid_stride_blocks((long long)S * (d / 4), 128), dim3(128), 0, tab, S, d);
}

// The RoPE cos/sin table of (S, d), built once per process and kept: a training step calls the attention forward
// and backward once per layer with the same S and d, and each call used to rebuild it (a launch each, 12 per 19m
// step). A process meets a handful of (S, d) (the model's, and those of traces and tests), 2·S·(d/4) floats each.
// The table is built on ftc::stream(), the stream every kernel of this project runs on, so every kernel launched
// after it sees it. nullptr (the error left for the op's check, nothing cached) when the allocation or the build
// fails.
const float* cached_rope_table(int S, int d) {
  static std::mutex mu;
  // Never destroyed (like the attention workspace): kernels may run until the process ends, and the tables stay
  // reachable for leak checkers.
  static auto* const tables = new std::map<std::pair<int, int>, float*>();
  std::lock_guard<std::mutex> lock(mu);
  const auto it = tables->find({S, d});
  if (it != tables->end()) return it->second;
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, (size_t)2 * (size_t)S * (size_t)(d / 4) * sizeof(float));
  if (e != cudaSuccess) {
    if (pending_error() == cudaSuccess) pending_error() = e;
    return nullptr;
  }
  rope_table(static_cast<float*>(p), S, d);
  if (cudaPeekAtLastError() != cudaSuccess) {
    cudaFree(p);
    return nullptr;
  }
  tables->emplace(std::make_pair(S, d), static_cast<float*>(p));
  return static_cast<float*>(p);
}

template <int DMAX>
void forward_dm(const float* q, const float* k, const float* v, float* out, float* lse, const float* tab, int B, int S,
                int D, int H, const DropKey& drop) {
  const int d = D / H;
  const dim3 grid((unsigned)((S + BR - 1) / BR), (unsigned)H, (unsigned)B);
  const size_t floats = (size_t)2 * BC * d + (size_t)BR * (BC + 1);
  FT_LAUNCH(attn_forward_kernel<DMAX>, grid, dim3(BR * Split<DMAX>::lanes), floats * sizeof(float), q, k, v, out, lse,
            tab, S, D, H, drop);
}

template <int DMAX>
void backward_dm(const float* dout, const float* q, const float* k, const float* v, const float* lse,
                 const float* Drow, float* dk, float* dv, float* dQrot, const float* tab, int B, int S, int D, int H,
                 const DropKey& drop, int accum) {
  constexpr int TQ = Split<DMAX>::bq;
  const int d = D / H;
  const dim3 grid((unsigned)((S + BC - 1) / BC), (unsigned)H, (unsigned)B);
  const size_t floats = (size_t)2 * BC * (d + 1) + (size_t)2 * TQ * d + 2 * TQ + (size_t)TQ * (BC + 1);
  const size_t bytes = floats * sizeof(float);
  if (bytes > 48 * 1024) {
    // Above 48 KB a kernel must opt in (d ≥ 124: 51.6 KB at d = 128), or its launch fails.
    cudaFuncSetAttribute(attn_backward_kernel<DMAX>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
  }
  FT_LAUNCH(attn_backward_kernel<DMAX>, grid, dim3(BC * Split<DMAX>::lanes), bytes, dout, q, k, v, lse, Drow, dk, dv,
            dQrot, tab, S, D, H, drop, accum);
}

// Scratch layout (the RoPE table is cached apart, cached_rope_table): the forward's bf16 staging of q, k, v, or
// the backward's dQ_rot and D (padded to 64 floats, 256 bytes, so that what follows is aligned for 16-byte
// copies) and its bf16 staging of q, k, v, dO. The staging is sized in every mode, so that a scratch planned
// before a mode change still fits.
int64_t staged_floats(int64_t B, int64_t S, int64_t D, int64_t H, int tensors) {
  return tensors * tc_staged_elems(B, S, D, H) / 2;
}
int64_t dq_d_floats(int64_t B, int64_t S, int64_t D, int64_t H) { return (B * H * S * (D / H + 1) + 63) / 64 * 64; }

}  // namespace

int64_t attention_forward_scratch(int64_t B, int64_t S, int64_t D, int64_t H) {
  return staged_floats(B, S, D, H, 3);
}

void attention_forward(const float* q, const float* k, const float* v, float* out, float* lse, float* scratch,
                       int64_t B, int64_t S, int64_t D, int64_t H, const DropKey& drop) {
  const int d = (int)(D / H);
  const float* tab = cached_rope_table((int)S, d);
  if (tab == nullptr) return;
  if (compute_mode() == ComputeMode::Bf16) {
    uint16_t* staged = reinterpret_cast<uint16_t*>(scratch);
    attention_forward_tc(q, k, v, out, lse, tab, staged, (int)B, (int)S, (int)D, (int)H, drop);
    return;
  }
  if (d <= 16) forward_dm<16>(q, k, v, out, lse, tab, (int)B, (int)S, (int)D, (int)H, drop);
  else if (d <= 32) forward_dm<32>(q, k, v, out, lse, tab, (int)B, (int)S, (int)D, (int)H, drop);
  else if (d <= 64) forward_dm<64>(q, k, v, out, lse, tab, (int)B, (int)S, (int)D, (int)H, drop);
  else forward_dm<128>(q, k, v, out, lse, tab, (int)B, (int)S, (int)D, (int)H, drop);
}

// More than the forward's scratch too, so one workspace serves both.
int64_t attention_backward_scratch(int64_t B, int64_t S, int64_t D, int64_t H) {
  return dq_d_floats(B, S, D, H) + staged_floats(B, S, D, H, 4);
}

void attention_backward(const float* dout, const float* q, const float* k, const float* v, const float* out,
                        const float* lse, float* dq, float* dk, float* dv, float* scratch, int64_t B, int64_t S,
                        int64_t D, int64_t H, const DropKey& drop, bool overwrite) {
  const int accum = overwrite ? 0 : 1;
  const int d = (int)(D / H);
  const long long rows = (long long)B * H * S;
  const float* tab = cached_rope_table((int)S, d);
  if (tab == nullptr) return;
  float* dQrot = scratch;
  float* Drow = dQrot + rows * d;
  zero_async(dQrot, (size_t)rows * d * sizeof(float));
  const bool bf16 = compute_mode() == ComputeMode::Bf16;
  FT_LAUNCH(attn_backward_pre_kernel, grid_stride_blocks(rows, 256), dim3(256), 0, dout, out, Drow, (int)B, (int)S,
            (int)D, (int)H, bf16 ? 1 : 0);
  if (bf16) {
    uint16_t* staged = reinterpret_cast<uint16_t*>(dQrot + dq_d_floats(B, S, D, H));
    attention_backward_tc(dout, q, k, v, lse, Drow, dk, dv, dQrot, tab, staged, (int)B, (int)S, (int)D, (int)H, drop,
                          accum);
  } else if (d <= 16) backward_dm<16>(dout, q, k, v, lse, Drow, dk, dv, dQrot, tab, (int)B, (int)S, (int)D, (int)H, drop, accum);
  else if (d <= 32) backward_dm<32>(dout, q, k, v, lse, Drow, dk, dv, dQrot, tab, (int)B, (int)S, (int)D, (int)H, drop, accum);
  else if (d <= 64) backward_dm<64>(dout, q, k, v, lse, Drow, dk, dv, dQrot, tab, (int)B, (int)S, (int)D, (int)H, drop, accum);
  else backward_dm<128>(dout, q, k, v, lse, Drow, dk, dv, dQrot, tab, (int)B, (int)S, (int)D, (int)H, drop, accum);
  FT_LAUNCH(attn_backward_post_kernel, grid_stride_blocks(rows * (d / 2), 256), dim3(256), 0, dQrot, dq, tab, (int)B,
            (int)S, (int)D, (int)H, accum);
}

}  // namespace ftc
