// The webgpu backend's WGSL kernels (bench/webgpu.ts: GEMM, attention) with gpu.js on the same matmul as
// the JavaScript GPU-compute peer. On this CPU-only machine the adapter is Mesa's llvmpipe, so these are
// figures of the portable path, not of a GPU.
import { Rng } from '../../src/util/random';
import { peakShare, Row, Suite, SuiteContext } from '../types';
import { benchWebgpu } from '../webgpu';
import { loadGpuJs, timeGpuJsMatmul } from './gpujs';

export const webgpuSuite: Suite = {
  name: 'webgpu',
  description: 'WGSL GEMM and attention on the webgpu backend vs gpu.js on the same matmul',
  async run(ctx: SuiteContext): Promise<Row[]> {
    let rows;
    try {
      rows = benchWebgpu({ minTime: ctx.quick ? 0.2 : 1 });
    } catch (e) {
      ctx.log(`webgpu: skipped, ${(e as Error).message}`);
      return [];
    }
    const GPU = loadGpuJs();
    const rng = new Rng(7);
    const out: Row[] = [];
    for (const r of rows) {
      const gemm = /^N=(\d+) K=(\d+) M=(\d+)$/.exec(r.shape);
      let peer: { ms: number; gflops: number } | null = null;
      if (gemm && r.name.includes('forward') && !(GPU instanceof Error)) {
        peer = timeGpuJsMatmul(GPU, Number(gemm[1]), Number(gemm[2]), Number(gemm[3]), rng, ctx.quick ? 0.2 : 1);
      }
      out.push({ suite: 'webgpu', figure: `${r.name} · webgpu (llvmpipe)`, shape: r.shape, ms: r.msPerCall, rate: r.gflops, unit: 'GFLOP/s',
        peer: peer ? 'gpu.js cpu mode' : null, ratio: peer ? r.gflops / peer.gflops : null, ...peakShare(r.gflops, ctx.peaks, 'fp32All'),
        note: 'each call includes one device sync (~0.3 ms)' });
      if (peer) {
        out.push({ suite: 'webgpu', figure: 'matmul · gpu.js (mode cpu, JS kernel)', shape: r.shape, ms: peer.ms, rate: peer.gflops, unit: 'GFLOP/s',
          peer: null, ratio: null, ...peakShare(peer.gflops, ctx.peaks, 'fp32All') });
      }
    }
    return out;
  },
};
