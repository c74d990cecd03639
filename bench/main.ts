// npm run bench [-- --suite ops] [--quick]: kernel throughput of the cpu backend at the 19m model's shapes
// (B = 32, T = 30 → S = 31, D = 512, H = 8), measured with benchmark.js. Figures are GFLOP/s.
import Benchmark from 'benchmark';
import { Command } from 'commander';
import type { Backend } from '../src/engine/backend';
import { getBackend } from '../src/engine/registry';
import { Rng } from '../src/util/random';

interface Row {
  suite: string;
  name: string;
  shape: string;
  msPerCall: number;
  gflops: number;
  rme: number;
}

function rand(be: Backend, shape: number[], rng: Rng, std = 1) {
  const n = shape.reduce((a, b) => a * b, 1);
  return be.tensor(shape, rng.fillNormal(new Float32Array(n), std));
}

function measure(name: string, fn: () => void, flops: number, maxTime: number): { ms: number; gflops: number; rme: number } {
  const b = new Benchmark(name, fn, { maxTime, minSamples: 5 });
  b.run();
  if (b.error) throw b.error;
  const ms = b.stats.mean * 1000;
  return { ms, gflops: flops / b.stats.mean / 1e9, rme: b.stats.rme };
}

function opsSuite(be: Backend, quick: boolean): Row[] {
  const rng = new Rng(1);
  const B = 32, T = 30, S = T + 1, D = 512, H = 8, F = 4 * D, N = B * S;
  const maxTime = quick ? 0.5 : 3;
  const rows: Row[] = [];
  for (const [K, M] of [[D, D], [D, F], [F, D]] as const) {
    const x = rand(be, [N, K], rng), w = rand(be, [M, K], rng, 0.02), b = rand(be, [M], rng), y = be.tensor([N, M]);
    const dy = rand(be, [N, M], rng), dx = be.tensor([N, K]), dw = be.tensor([M, K]), db = be.tensor([M]);
    const shape = `N=${N} K=${K} M=${M}`;
    let r = measure('linear fwd', () => be.linear(x, w, b, y), 2 * N * K * M, maxTime);
    rows.push({ suite: 'ops', name: 'linear forward', shape, msPerCall: r.ms, gflops: r.gflops, rme: r.rme });
    r = measure('linear bwd', () => be.linearBackward(dy, x, w, dx, dw, db), 4 * N * K * M, maxTime);
    rows.push({ suite: 'ops', name: 'linear backward (dx, dW, db)', shape, msPerCall: r.ms, gflops: r.gflops, rme: r.rme });
    for (const t of [x, w, b, y, dy, dx, dw, db]) be.dispose(t);
  }
  const q = rand(be, [B, S, D], rng), k = rand(be, [B, S, D], rng), v = rand(be, [B, S, D], rng);
  const out = be.tensor([B, S, D]), lse = be.tensor([B, H, S]);
  const dout = rand(be, [B, S, D], rng), dq = be.tensor([B, S, D]), dk = be.tensor([B, S, D]), dv = be.tensor([B, S, D]);
  // Causal: about half of the S² score matrix; forward = QKᵀ and PV, backward = 5 such products (incl. recompute).
  const d = D / H, pairs = (S * (S + 1)) / 2;
  const fwdFlops = 4 * B * H * pairs * d;
  const shape = `B=${B} S=${S} D=${D} H=${H}`;
  let r = measure('attention fwd', () => be.ropeAttention(q, k, v, H, out, lse), fwdFlops, maxTime);
  rows.push({ suite: 'ops', name: 'ropeAttention forward', shape, msPerCall: r.ms, gflops: r.gflops, rme: r.rme });
  be.ropeAttention(q, k, v, H, out, lse);
  r = measure('attention bwd', () => be.ropeAttentionBackward(dout, q, k, v, out, lse, H, dq, dk, dv), 2.5 * fwdFlops, maxTime);
  rows.push({ suite: 'ops', name: 'ropeAttention backward', shape, msPerCall: r.ms, gflops: r.gflops, rme: r.rme });
  return rows;
}

function main(): void {
  const program = new Command()
    .name('bench')
    .option('--backend <name>', 'backend to measure', 'cpu')
    .option('--suite <names>', 'comma-separated suites (ops)', 'ops')
    .option('--quick', 'short measurement (CI smoke)')
    .option('--json <file>', 'also write the rows as JSON')
    .parse(process.argv);
  const o = program.opts<{ backend: string; suite: string; quick?: boolean; json?: string }>();
  const be = getBackend(o.backend);
  console.log(`fairtune bench · backend ${be.name} (${be.description}) · ${new Date().toISOString()}`);
  const rows: Row[] = [];
  for (const s of o.suite.split(',')) {
    if (s === 'ops') rows.push(...opsSuite(be, !!o.quick));
    else throw new Error(`unknown suite '${s}' (available: ops)`);
  }
  console.log('| figure | shape | ms/call | GFLOP/s | ±% |');
  console.log('| --- | --- | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.name} | ${r.shape} | ${r.msPerCall.toFixed(3)} | ${r.gflops.toFixed(1)} | ${r.rme.toFixed(1)} |`);
  if (o.json) require('fs').writeFileSync(o.json, JSON.stringify(rows, null, 2));
}

main();
