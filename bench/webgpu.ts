// Benchmarks of the webgpu backend's WGSL kernels (Dawn on Mesa llvmpipe here): the tiled GEMM behind
// linear, its backward, and the fused RoPE attention forward and backward, at small shapes and at two that
// llvmpipe's loop limit makes the backend slice (src/engine/webgpu/loop-budget.ts): dW over 16384 tokens and
// attention at head dim 128 over a T = 256 window, the 1b model's. Every timed call
// ends with a device synchronisation, so the figures are the kernels' run time plus one round trip through
// the device worker (about 0.3 ms), not the time to enqueue. The lead wires this into bench/main.ts.
import { WebGpuBackend } from '../src/engine/webgpu/backend';
import { timeCalls } from './measure';

export interface WebgpuBenchRow {
  name: string;
  shape: string;
  msPerCall: number;
  gflops: number;
}

function filled(be: WebGpuBackend, shape: number[], seed: number) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 4294967296 - 0.5;
  }
  return be.tensor(shape, data);
}

/** Causal attention forward FLOPs: QKᵀ and P·V over the S(S+1)/2 visible pairs of every head. */
function attentionFlops(B: number, S: number, D: number): number {
  return 4 * B * D * ((S * (S + 1)) / 2);
}

export function benchWebgpu(opts: { minTime?: number; backend?: WebGpuBackend } = {}): WebgpuBenchRow[] {
  const be = opts.backend ?? new WebGpuBackend();
  const minTime = opts.minTime ?? 1;
  const rows: WebgpuBenchRow[] = [];
  const time = (name: string, shape: string, flops: number, fn: () => void) => {
    const t = timeCalls(() => {
      fn();
      be.synchronize();
    }, { minTime, minCalls: 3, warmup: 2 });
    rows.push({ name, shape, msPerCall: t.medianMs, gflops: flops / (t.medianMs * 1e6) });
  };
  try {
    for (const n of [128, 256]) {
      const x = filled(be, [n, n], 1), w = filled(be, [n, n], 2), b = filled(be, [n], 3), y = be.tensor([n, n]);
      const dx = be.tensor([n, n]), dw = be.tensor([n, n]);
      time('linear forward (WGSL GEMM)', `N=${n} K=${n} M=${n}`, 2 * n * n * n, () => be.linear(x, w, b, y));
      time('linear backward dx+dW', `N=${n} K=${n} M=${n}`, 4 * n * n * n, () => be.linearBackward(y, x, w, dx, dw, null));
      for (const t of [x, w, b, y, dx, dw]) be.dispose(t);
    }
    {
      // dW and db contract over the tokens: 16384 of them run as 15 K slices of the GEMM.
      const N = 16384, K = 64, M = 64;
      const x = filled(be, [N, K], 8), w = filled(be, [M, K], 9), dy = filled(be, [N, M], 10), dw = be.tensor([M, K]), db = be.tensor([M]);
      time('linear backward dW+db over many tokens (K slices)', `N=${N} K=${K} M=${M}`, 2 * N * K * M, () => be.linearBackward(dy, x, w, null, dw, db));
      for (const t of [x, w, dy, dw, db]) be.dispose(t);
    }
    // The last shape runs in key (and query) slices: 3 each way at head dim 128.
    for (const [B, S, D, H] of [[4, 31, 64, 4], [2, 61, 128, 2], [1, 257, 256, 2]]) {
      const q = filled(be, [B, S, D], 4), k = filled(be, [B, S, D], 5), v = filled(be, [B, S, D], 6);
      const out = be.tensor([B, S, D]), lse = be.tensor([B, H, S]), dout = filled(be, [B, S, D], 7);
      const dq = be.tensor([B, S, D]), dk = be.tensor([B, S, D]), dv = be.tensor([B, S, D]);
      const shape = `B=${B} S=${S} D=${D} H=${H}`;
      const f = attentionFlops(B, S, D);
      time('ropeAttention forward', shape, f, () => be.ropeAttention(q, k, v, H, out, lse));
      // The backward recomputes QKᵀ and forms dV, dP, dQ, dK: five products to the forward's two.
      time('ropeAttention backward', shape, 2.5 * f, () => be.ropeAttentionBackward(dout, q, k, v, out, lse, H, dq, dk, dv));
      for (const t of [q, k, v, out, lse, dout, dq, dk, dv]) be.dispose(t);
    }
  } finally {
    if (opts.backend === undefined) be.destroy();
  }
  return rows;
}
