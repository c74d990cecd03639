// The engine's linear forward y[N,M] = x[N,K]·W[M,K]ᵀ + b against OpenBLAS cblas_sgemm and oneDNN dnnl_sgemm
// (bench/native/gemm_peers.cc, same layout, same thread count) at the GEMM shapes of the models' blocks.
import { getBackend } from '../../src/engine/registry';
import { engineThreads } from '../../src/profile/peak';
import { runNativeTool } from '../../src/profile/native-tools';
import { Rng } from '../../src/util/random';
import { timeCalls } from '../measure';
import { peerEnv } from '../peer-env';
import { ofPeak, Row, Suite, SuiteContext } from '../types';
import { randTensor } from './util';

interface PeerResult { lib: string; median_ms?: number; error?: string; kernel?: string; warmup?: number }

/** (model, D): N = 32·30 = 960 and 32·31 = 992 tokens; (K, M) = (D, D), (D, 3D) fused QKV, (D, 4D), (4D, D). */
function shapes(quick: boolean): { model: string; N: number; K: number; M: number }[] {
  if (quick) return [{ model: '19m', N: 992, K: 512, M: 2048 }];
  const out: { model: string; N: number; K: number; M: number }[] = [];
  for (const [model, D] of [['19m', 512], ['85m', 768], ['345m', 1024]] as const) {
    for (const N of [960, 992]) {
      for (const [K, M] of [[D, D], [D, 3 * D], [D, 4 * D], [4 * D, D]]) out.push({ model, N, K, M });
    }
  }
  return out;
}

export const gemmSuite: Suite = {
  name: 'gemm',
  description: 'engine linear forward vs OpenBLAS and oneDNN sgemm at the models\' shapes',
  async run(ctx: SuiteContext): Promise<Row[]> {
    const be = getBackend(ctx.backend);
    const threads = engineThreads();
    const rng = new Rng(2);
    const minTime = ctx.quick ? 0.2 : 1;
    const rows: Row[] = [];
    for (const { model, N, K, M } of shapes(ctx.quick)) {
      const flops = 2 * N * K * M, shape = `${model} N=${N} K=${K} M=${M}`;
      const x = randTensor(be, [N, K], rng), w = randTensor(be, [M, K], rng, 0.02), b = randTensor(be, [M], rng), y = be.tensor([N, M]);
      const t = ctx.steady(`engine linear ${shape}`, () => timeCalls(() => be.linear(x, w, b, y), { minTime, minCalls: 5, warmup: 3 }));
      for (const u of [x, w, b, y]) be.dispose(u);
      const engine = flops / t.medianMs / 1e6;
      const peers: { name: string; gflops: number; ms: number }[] = [];
      for (const lib of ['openblas', 'onednn'] as const) {
        const name = lib === 'openblas' ? 'OpenBLAS sgemm' : 'oneDNN sgemm';
        const r = ctx.steady(`${name} ${shape}`, () => runNativeTool<PeerResult>('gemm_peers', [lib, String(N), String(K), String(M), String(threads), String(minTime)],
          peerEnv({ OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) }), true));
        if (r.median_ms === undefined) {
          ctx.missingPeer(name, r.error ?? 'no result');
          continue;
        }
        const g = flops / r.median_ms / 1e6;
        peers.push({ name, gflops: g, ms: r.median_ms });
        rows.push({ suite: 'gemm', figure: `sgemm · ${name}`, shape, ms: r.median_ms, rate: g, unit: 'GFLOP/s', peer: null, ratio: null,
          ofPeak: ofPeak(g, ctx.peaks.fp32All), note: `${threads} threads; kernel ${r.kernel}; warm-up ${r.warmup}` });
      }
      const best = peers.reduce<(typeof peers)[number] | null>((a, p) => (a === null || p.gflops > a.gflops ? p : a), null);
      rows.splice(rows.length - peers.length, 0, {
        suite: 'gemm', figure: 'linear forward (+bias) · engine', shape, ms: t.medianMs, rate: engine, unit: 'GFLOP/s',
        peer: best?.name ?? null, ratio: best ? engine / best.gflops : null, ofPeak: ofPeak(engine, ctx.peaks.fp32All),
        note: `${threads} threads; warm-up ${t.warmup}${best ? '' : '; no BLAS peer available'}`,
      });
    }
    return rows;
  },
};
