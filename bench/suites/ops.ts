// The engine's kernel throughput at the 19m model's shapes (B = 32, T = 30 → S = 31, D = 512, H = 8),
// measured with benchmark.js. No peers: the other suites compare.
import Benchmark from 'benchmark';
import { getBackend } from '../../src/engine/registry';
import { Rng } from '../../src/util/random';
import { peakShare, Row, Suite, SuiteContext } from '../types';
import { attentionForwardFlops, randTensor } from './util';

function measure(name: string, fn: () => void, flops: number, maxTime: number): { ms: number; gflops: number; rme: number } {
  const b = new Benchmark(name, fn, { maxTime, minSamples: 5 });
  b.run();
  if (b.error) throw b.error;
  return { ms: b.stats.mean * 1000, gflops: flops / b.stats.mean / 1e9, rme: b.stats.rme };
}

export const opsSuite: Suite = {
  name: 'ops',
  description: 'engine kernels (linear, ropeAttention) at the 19m shapes, benchmark.js',
  async run(ctx: SuiteContext): Promise<Row[]> {
    const be = getBackend(ctx.backend);
    const rng = new Rng(1);
    const B = 32, T = 30, S = T + 1, D = 512, H = 8, F = 4 * D, N = B * S;
    const maxTime = ctx.quick ? 0.3 : 3;
    const rows: Row[] = [];
    const row = (figure: string, shape: string, r: { ms: number; gflops: number; rme: number }): Row => ({
      suite: 'ops', figure, shape, ms: r.ms, rate: r.gflops, unit: 'GFLOP/s', peer: null, ratio: null,
      ...peakShare(r.gflops, ctx.peaks, 'fp32All'), note: `±${r.rme.toFixed(1)}%`,
    });
    for (const [K, M] of [[D, D], [D, F], [F, D]] as const) {
      const x = randTensor(be, [N, K], rng), w = randTensor(be, [M, K], rng, 0.02), b = randTensor(be, [M], rng), y = be.tensor([N, M]);
      const dy = randTensor(be, [N, M], rng), dx = be.tensor([N, K]), dw = be.tensor([M, K]), db = be.tensor([M]);
      const shape = `N=${N} K=${K} M=${M}`;
      rows.push(row('linear forward · engine', shape, measure('linear fwd', () => be.linear(x, w, b, y), 2 * N * K * M, maxTime)));
      rows.push(row('linear backward (dx, dW, db) · engine', shape,
        measure('linear bwd', () => be.linearBackward(dy, x, w, dx, dw, db), 4 * N * K * M, maxTime)));
      for (const t of [x, w, b, y, dy, dx, dw, db]) be.dispose(t);
    }
    const q = randTensor(be, [B, S, D], rng), k = randTensor(be, [B, S, D], rng), v = randTensor(be, [B, S, D], rng);
    const out = be.tensor([B, S, D]), lse = be.tensor([B, H, S]);
    const dout = randTensor(be, [B, S, D], rng), dq = be.tensor([B, S, D]), dk = be.tensor([B, S, D]), dv = be.tensor([B, S, D]);
    const fwdFlops = attentionForwardFlops(B, S, D);
    const shape = `B=${B} S=${S} D=${D} H=${H}`;
    rows.push(row('ropeAttention forward · engine', shape, measure('attention fwd', () => be.ropeAttention(q, k, v, H, out, lse), fwdFlops, maxTime)));
    be.ropeAttention(q, k, v, H, out, lse);
    // Backward = 5 products of the forward's size (dV, dP, dQ, dK and the recomputed scores).
    rows.push(row('ropeAttention backward · engine', shape,
      measure('attention bwd', () => be.ropeAttentionBackward(dout, q, k, v, out, lse, H, dq, dk, dv), 2.5 * fwdFlops, maxTime)));
    for (const t of [q, k, v, out, lse, dout, dq, dk, dv]) be.dispose(t);
    return rows;
  },
};
