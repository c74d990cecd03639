// gpu.js matrix product in its CPU mode (the only mode that runs headless here: its WebGL mode needs the
// `gl` package, which does not build without X11) against the engine's linear at the same shapes.
import { getBackend } from '../../src/engine/registry';
import { Rng } from '../../src/util/random';
import { timeCalls } from '../measure';
import { peakShare, Row, Suite, SuiteContext } from '../types';
import { randTensor } from './util';

interface GpuKernel { (a: Float32Array[], w: Float32Array[]): Float32Array[] }

type GpuCtor = new (o: { mode: string }) => { mode: string; createKernel: (...a: unknown[]) => { setOutput(o: number[]): unknown; setConstants(c: object): unknown } & GpuKernel; destroy(): void };

/** gpu.js's constructor, or the reason it does not load here. */
export function loadGpuJs(): GpuCtor | Error {
  try {
    return (require('gpu.js') as { GPU: GpuCtor }).GPU;
  } catch (e) {
    return e as Error;
  }
}

/** Median time of gpu.js's matmul y[N,M] = x[N,K]·w[M,K]ᵀ in its cpu mode, checked for correctness. */
export function timeGpuJsMatmul(GPU: GpuCtor, N: number, K: number, M: number, rng: Rng, minTime: number): { ms: number; gflops: number } {
  const gpu = new GPU({ mode: 'cpu' });
  // y[n][m] = Σ_k x[n][k]·w[m][k]: gpu.js output [x = M, y = N].
  const kernel = gpu.createKernel(function (this: { thread: { x: number; y: number }; constants: { K: number } }, a: number[][], w: number[][]) {
    let s = 0;
    for (let k = 0; k < this.constants.K; k++) s += a[this.thread.y][k] * w[this.thread.x][k];
    return s;
  }, { constants: { K }, output: [M, N] }) as unknown as GpuKernel;
  const rowsOf = (n: number, k: number, std: number) => Array.from({ length: n }, () => rng.fillNormal(new Float32Array(k), std));
  const a = rowsOf(N, K, 1), w = rowsOf(M, K, 0.02);
  const g = timeCalls(() => { kernel(a, w); }, { minTime, minCalls: 3 });
  // Check the peer computes the product (a wrong kernel would make a meaningless figure).
  const out = kernel(a, w);
  let ref = 0;
  for (let k = 0; k < K; k++) ref += a[0][k] * w[0][k];
  if (Math.abs(out[0][0] - ref) > 1e-3 * (1 + Math.abs(ref))) throw new Error(`gpu.js matmul is wrong: ${out[0][0]} vs ${ref}`);
  gpu.destroy();
  return { ms: g.medianMs, gflops: (2 * N * K * M) / g.medianMs / 1e6 };
}

export const gpujsSuite: Suite = {
  name: 'gpujs',
  description: 'gpu.js matmul (cpu mode) vs the engine\'s linear',
  async run(ctx: SuiteContext): Promise<Row[]> {
    const GPU = loadGpuJs();
    if (GPU instanceof Error) {
      ctx.log(`gpujs: skipped, gpu.js does not load: ${GPU.message}`);
      return [];
    }
    const be = getBackend(ctx.backend);
    const rng = new Rng(6);
    const sizes = ctx.quick ? [[128, 128, 128]] : [[128, 128, 128], [256, 256, 256], [992, 512, 512]];
    const rows: Row[] = [];
    for (const [N, K, M] of sizes) {
      const flops = 2 * N * K * M, shape = `N=${N} K=${K} M=${M}`, minTime = ctx.quick ? 0.2 : 1;
      const g = timeGpuJsMatmul(GPU, N, K, M, rng, minTime);
      const x = randTensor(be, [N, K], rng), wt = randTensor(be, [M, K], rng, 0.02), y = be.tensor([N, M]);
      const e = timeCalls(() => be.linear(x, wt, null, y), { minTime, minCalls: 5 });
      for (const t of [x, wt, y]) be.dispose(t);
      const eg = flops / e.medianMs / 1e6;
      rows.push({ suite: 'gpujs', figure: 'linear forward · engine', shape, ms: e.medianMs, rate: eg, unit: 'GFLOP/s', peer: 'gpu.js cpu mode',
        ratio: eg / g.gflops, ...peakShare(eg, ctx.peaks, 'fp32All') });
      rows.push({ suite: 'gpujs', figure: 'matmul · gpu.js (mode cpu, JS kernel)', shape, ms: g.ms, rate: g.gflops, unit: 'GFLOP/s', peer: null,
        ratio: null, ...peakShare(g.gflops, ctx.peaks, 'fp32All'), note: '1 thread; output arrays allocated per call' });
    }
    return rows;
  },
};
