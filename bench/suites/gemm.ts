// The engine's linear forward y[N,M] = x[N,K]·W[M,K]ᵀ + b against OpenBLAS cblas_sgemm and oneDNN dnnl_sgemm
// (bench/native/gemm_peers.cc, same layout, same thread count) at the GEMM shapes of the models' blocks.
import { getBackend } from '../../src/engine/registry';
import { engineThreads } from '../../src/profile/peak';
import { runNativeTool } from '../../src/profile/native-tools';
import { median } from '../../src/util/median';
import { Rng } from '../../src/util/random';
import { timeCalls, type Timing } from '../measure';
import { peerEnv } from '../peer-env';
import { peakShare, Row, Suite, SuiteContext } from '../types';
import { randTensor, roundsNote } from './util';

interface PeerResult { lib: string; median_ms?: number; error?: string; kernel?: string; warmup?: number }

const PEERS = [['OpenBLAS sgemm', 'openblas'], ['oneDNN sgemm', 'onednn']] as const;
/** Turns each side takes per shape (the figure is the median of its turns' medians). */
export const GEMM_ROUNDS = 3;

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
    const rounds = ctx.quick ? 1 : GEMM_ROUNDS;
    const minTime = (ctx.quick ? 0.2 : 1) / rounds;
    const rows: Row[] = [];
    for (const { model, N, K, M } of shapes(ctx.quick)) {
      const flops = 2 * N * K * M, shape = `${model} N=${N} K=${K} M=${M}`;
      const x = randTensor(be, [N, K], rng), w = randTensor(be, [M, K], rng, 0.02), b = randTensor(be, [M], rng), y = be.tensor([N, M]);
      const engineRounds: Timing[] = [];
      const peerRounds = new Map<string, PeerResult[]>(PEERS.map(([name]) => [name, []]));
      // Turns after the first that a peer failed (turn number and why): its figure is then the median of the
      // turns it completed, and its row says which failed.
      const peerFailed = new Map<string, string[]>(PEERS.map(([name]) => [name, []]));
      // The engine and its peers take turns, `rounds` times, so that a slow stretch of the shared host
      // (minutes of lower memory bandwidth were seen) falls on every side instead of on whichever ran then.
      for (let r = 0; r < rounds; r++) {
        engineRounds.push(ctx.steady(`engine linear ${shape}`, () => timeCalls(() => be.linear(x, w, b, y), { minTime, minCalls: 5, warmup: 3 })));
        for (const [name, lib] of PEERS) {
          const seen = peerRounds.get(name)!;
          if (r > 0 && seen.length === 0) continue; // missing since its first turn (reported then)
          const res = ctx.steady(`${name} ${shape}`, () => runNativeTool<PeerResult>('gemm_peers', [lib, String(N), String(K), String(M), String(threads), String(minTime)],
            peerEnv({ OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) }), true));
          if (res.median_ms === undefined) {
            const why = res.error ?? 'no result';
            if (r === 0) ctx.missingPeer(name, why);
            else {
              peerFailed.get(name)!.push(`turn ${r + 1} failed: ${why}`);
              ctx.log(`${name} ${shape}: turn ${r + 1} of ${rounds} failed (${why}); its figure takes the turns it completed`);
            }
            continue;
          }
          seen.push(res);
        }
      }
      for (const u of [x, w, b, y]) be.dispose(u);
      const engineMs = median(engineRounds.map((t) => t.medianMs));
      const engine = flops / engineMs / 1e6;
      const peers: { name: string; gflops: number; ms: number }[] = [];
      for (const [name] of PEERS) {
        const got = peerRounds.get(name)!;
        if (got.length === 0) continue;
        const ms = median(got.map((g) => g.median_ms as number));
        const g = flops / ms / 1e6;
        peers.push({ name, gflops: g, ms });
        rows.push({ suite: 'gemm', figure: `sgemm · ${name}`, shape, ms, rate: g, unit: 'GFLOP/s', peer: null, ratio: null,
          ...peakShare(g, ctx.peaks, 'fp32All'), note: `${threads} threads; kernel ${got[0].kernel}; warm-up ${got.map((x) => x.warmup).join('/')}${roundsNote(got.length)}${peerFailed.get(name)!.map((f) => `; ${f}`).join('')}` });
      }
      const best = peers.reduce<(typeof peers)[number] | null>((a, p) => (a === null || p.gflops > a.gflops ? p : a), null);
      rows.splice(rows.length - peers.length, 0, {
        suite: 'gemm', figure: 'linear forward (+bias) · engine', shape, ms: engineMs, rate: engine, unit: 'GFLOP/s',
        peer: best?.name ?? null, ratio: best ? engine / best.gflops : null, ...peakShare(engine, ctx.peaks, 'fp32All'),
        note: `${threads} threads; warm-up ${engineRounds.map((t) => t.warmup).join('/')}${roundsNote(rounds)}${best ? '' : '; no BLAS peer available'}`,
      });
    }
    return rows;
  },
};
