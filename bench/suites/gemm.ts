// The engine's linear products against OpenBLAS cblas_sgemm and oneDNN dnnl_sgemm (bench/native/gemm_peers.cc,
// same layouts, same thread count) at the GEMM shapes of the models' blocks: the forward y[N,M] = x[N,K]·W[M,K]ᵀ + b
// at every shape, and the backward's two products (dx = dy·W and dW = dyᵀ·x, one linearBackward call without a
// bias) at the N = 992 shapes and the 1b model's linear1 at B = 8, where the weights are large against the rows.
// gemm-one-thread takes the 19m shapes again with one thread on every side: on a shared host's two vCPUs the
// two-thread figures carry each library's way of sharing the cores (OpenBLAS's idle workers keep polling, a
// neighbour takes a core in bursts), and the one-thread rows show the kernels alone.
import type { Backend } from '../../src/engine/backend';
import { CpuBackend } from '../../src/engine/cpu/backend';
import { getBackend } from '../../src/engine/registry';
import type { Tensor } from '../../src/engine/tensor';
import { engineThreads } from '../../src/profile/peak';
import { runNativeTool } from '../../src/profile/native-tools';
import { median } from '../../src/util/median';
import { Rng } from '../../src/util/random';
import { timeCalls, type Timing } from '../measure';
import { peerEnv } from '../peer-env';
import { STEADY_SPREAD, takeTurns } from '../steadiness';
import { peakShare, type PeakKind, Row, Suite, SuiteContext } from '../types';
import { randTensor, roundsNote } from './util';

interface PeerResult { lib: string; median_ms?: number; fast_ms?: number; error?: string; kernel?: string; warmup?: number }

/** A peer's median and 10th-percentile call for the steadiness guard's spread rule (none when it failed). */
const peerCalls = (r: PeerResult) => (r.median_ms === undefined || r.fast_ms === undefined ? null : { medianMs: r.median_ms, fastMs: r.fast_ms });

const PEERS = [['OpenBLAS sgemm', 'openblas'], ['oneDNN sgemm', 'onednn']] as const;
/** Turns each side takes per shape (the figure is the median of its turns' medians). */
export const GEMM_ROUNDS = 3;
/**
 * Turns each side takes per shape when some side's first GEMM_ROUNDS disagree (steadiness.ts, takeTurns): five
 * turns hold a median through two slowed ones. A turn is about a second per side, so the extra turns cost
 * little; on a restless Zen 3 host (2026-12-07) 26 of the 49 GEMM comparisons of one run took them.
 */
export const GEMM_MAX_ROUNDS = 5;

interface Shape { model: string; N: number; K: number; M: number }

/** (model, D): N = 32·30 = 960 and 32·31 = 992 tokens; (K, M) = (D, D), (D, 3D) fused QKV, (D, 4D), (4D, D). */
function shapes(quick: boolean): Shape[] {
  if (quick) return [{ model: '19m', N: 992, K: 512, M: 2048 }];
  const out: Shape[] = [];
  for (const [model, D] of [['19m', 512], ['85m', 768], ['345m', 1024]] as const) {
    for (const N of [960, 992]) {
      for (const [K, M] of [[D, D], [D, 3 * D], [D, 4 * D], [4 * D, D]]) out.push({ model, N, K, M });
    }
  }
  return out;
}

/** The one-thread comparison's shapes: the 19m forward at N = 992 and at B = 8 (N = 248), and its backward at 992. */
function oneThreadShapes(quick: boolean): { forward: Shape[]; backward: Shape[] } {
  if (quick) return { forward: [{ model: '19m', N: 248, K: 512, M: 2048 }], backward: [] };
  const of19m = shapes(false).filter((s) => s.model === '19m' && s.N === 992);
  return { forward: [...of19m, ...of19m.map((s) => ({ ...s, N: 248 }))], backward: of19m };
}

/** The backward's shapes: the N = 992 forward shapes, and the 1b linear1 at B = 8 (N = 8·31 = 248). */
function backwardShapes(quick: boolean): Shape[] {
  if (quick) return [{ model: '19m', N: 992, K: 512, M: 2048 }];
  return [...shapes(false).filter((s) => s.N === 992), { model: '1b', N: 248, K: 2048, M: 8192 }];
}

interface Direction {
  /** gemm_peers' direction argument. */
  arg: 'forward' | 'backward';
  engineFigure: string;
  /** The peer's figure, given its name. */
  peerFigure: (name: string) => string;
  /** FLOPs of one call. */
  flops: (s: Shape) => number;
  /** The tensors of one shape and the engine call on them. */
  setup: (s: Shape, rng: Rng) => { call: () => void; tensors: Tensor[] };
}

const GEMM_FORWARD_FIGURE = 'linear forward (+bias) · engine';
const GEMM_BACKWARD_FIGURE = 'linear backward dx + dW · engine';

/**
 * One shape in one direction: the engine and its peers take turns, `rounds` times, so that a slow stretch of
 * the shared host (minutes of lower memory bandwidth were seen) falls on every side instead of on whichever
 * ran then. Rows: the engine's (against the best peer), then each peer's.
 */
function compare(ctx: SuiteContext, dir: Direction, sh: Shape, rng: Rng, one?: CpuBackend): Row[] {
  const { be, rounds, maxRounds, minTime } = settings(ctx);
  const threads = one ? 1 : engineThreads();
  const figure = (f: string) => (one ? `${f}, one thread` : f);
  const suite = one ? gemmOneThreadSuite.name : gemmSuite.name;
  const peak: PeakKind = one ? 'fp32One' : 'fp32All';
  const flops = dir.flops(sh), shape = `${sh.model} N=${sh.N} K=${sh.K} M=${sh.M}`;
  const { call, tensors } = dir.setup(sh, rng);
  const threadsNote = threads === 1 ? '1 thread' : `${threads} threads`;
  // The engine's pool runs one thread for this side's turns only (the peers and the other suites keep all).
  const engineTurn = () => {
    const before = one?.info().threads;
    one?.setThreads(1);
    try {
      return timeCalls(call, { minTime, minCalls: 5, warmup: 3 });
    } finally {
      if (before !== undefined) one?.setThreads(before);
    }
  };
  const engineRounds: Timing[] = [];
  const peerRounds = new Map<string, PeerResult[]>(PEERS.map(([name]) => [name, []]));
  // Turns after the first that a peer failed (turn number and why): its figure is then the median of the
  // turns it completed, and its row says which failed.
  const peerFailed = new Map<string, string[]>(PEERS.map(([name]) => [name, []]));
  const what = `${dir.arg} ${shape}${one ? ' (one thread)' : ''}`;
  // One-thread turns are probed on one thread against the one-thread peak (steadiness.ts).
  const width = one ? 'one' : 'all';
  // Every side's turns so far (ms), for the rule that takes more turns when they disagree.
  const sidesTurnsMs = () => [engineRounds.map((t) => t.medianMs), ...[...peerRounds.values()].map((got) => got.map((g) => g.median_ms as number))];
  const turn = (r: number) => {
    engineRounds.push(ctx.steady(`engine ${what}`, engineTurn, (t) => t, width));
    for (const [name, lib] of PEERS) {
      const seen = peerRounds.get(name)!;
      if (r > 0 && seen.length === 0) continue; // missing since its first turn (reported then)
      const res = ctx.steady(`${name} ${what}`, () => runNativeTool<PeerResult>('gemm_peers',
        [lib, String(sh.N), String(sh.K), String(sh.M), String(threads), String(minTime), dir.arg],
        peerEnv({ OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) }), true), peerCalls, width);
      if (res.median_ms === undefined) {
        const why = res.error ?? 'no result';
        if (r === 0) ctx.missingPeer(name, why);
        else {
          peerFailed.get(name)!.push(`turn ${r + 1} failed: ${why}`);
          ctx.log(`${name} ${what}: turn ${r + 1} failed (${why}); its figure takes the turns it completed`);
        }
        continue;
      }
      seen.push(res);
    }
  };
  takeTurns({
    rounds, maxRounds, turn,
    uneven: () => sidesTurnsMs().filter((t) => ctx.steady.disagree(t)).length,
    onExtra: (extra, uneven) => ctx.log(`${what}: the turns of ${uneven} side(s) disagree by more than ${STEADY_SPREAD}×; every side takes ${extra} more`),
  });
  for (const t of tensors) be.dispose(t);
  const rows: Row[] = [];
  const engineTurnsMs = engineRounds.map((t) => t.medianMs);
  ctx.steady.turns(`engine ${what}`, engineTurnsMs);
  const engineMs = median(engineTurnsMs);
  const engine = flops / engineMs / 1e6;
  const peers: { name: string; gflops: number }[] = [];
  for (const [name] of PEERS) {
    const got = peerRounds.get(name)!;
    if (got.length === 0) continue;
    const turnsMs = got.map((g) => g.median_ms as number);
    ctx.steady.turns(`${name} ${what}`, turnsMs);
    const ms = median(turnsMs);
    const g = flops / ms / 1e6;
    peers.push({ name, gflops: g });
    rows.push({ suite, figure: figure(dir.peerFigure(name)), shape, ms, rate: g, unit: 'GFLOP/s', peer: null, ratio: null,
      ...peakShare(g, ctx.peaks, peak), note: `${threadsNote}; kernel ${got[0].kernel}; warm-up ${got.map((x) => x.warmup).join('/')}${roundsNote(got.length)}${peerFailed.get(name)!.map((f) => `; ${f}`).join('')}` });
  }
  const best = peers.reduce<(typeof peers)[number] | null>((a, p) => (a === null || p.gflops > a.gflops ? p : a), null);
  rows.unshift({
    suite, figure: figure(dir.engineFigure), shape, ms: engineMs, rate: engine, unit: 'GFLOP/s',
    peer: best?.name ?? null, ratio: best ? engine / best.gflops : null, ...peakShare(engine, ctx.peaks, peak),
    note: `${threadsNote}; warm-up ${engineRounds.map((t) => t.warmup).join('/')}${roundsNote(engineRounds.length)}${best ? '' : '; no BLAS peer available'}`,
  });
  return rows;
}

function settings(ctx: SuiteContext) {
  const rounds = ctx.quick ? 1 : GEMM_ROUNDS;
  // minTime per turn stays that of the first `rounds` turns: an extra turn is as long as the others.
  return { be: getBackend(ctx.backend), rounds, maxRounds: ctx.quick ? 1 : GEMM_MAX_ROUNDS, minTime: (ctx.quick ? 0.2 : 1) / rounds };
}


function directions(be: Backend): Direction[] {
  return [
    {
      arg: 'forward', engineFigure: GEMM_FORWARD_FIGURE, peerFigure: (name) => `sgemm · ${name}`, flops: (s) => 2 * s.N * s.K * s.M,
      setup: ({ N, K, M }, rng) => {
        const x = randTensor(be, [N, K], rng), w = randTensor(be, [M, K], rng, 0.02), b = randTensor(be, [M], rng), y = be.tensor([N, M]);
        return { call: () => be.linear(x, w, b, y), tensors: [x, w, b, y] };
      },
    },
    {
      // Both gradients overwritten, as the peers' beta = 0 does (and as the training step calls it).
      arg: 'backward', engineFigure: GEMM_BACKWARD_FIGURE, peerFigure: (name) => `sgemm dx + dW · ${name}`, flops: (s) => 4 * s.N * s.K * s.M,
      setup: ({ N, K, M }, rng) => {
        const dy = randTensor(be, [N, M], rng), x = randTensor(be, [N, K], rng), w = randTensor(be, [M, K], rng, 0.02);
        const dx = be.tensor([N, K]), dw = be.tensor([M, K]);
        return { call: () => be.linearBackward(dy, x, w, dx, dw, null, true, null, true), tensors: [dy, x, w, dx, dw] };
      },
    },
  ];
}

export const gemmSuite: Suite = {
  name: 'gemm',
  description: 'engine linear forward and backward vs OpenBLAS and oneDNN sgemm at the models\' shapes',
  async run(ctx: SuiteContext): Promise<Row[]> {
    const rng = new Rng(2);
    const [forward, backward] = directions(getBackend(ctx.backend));
    const rows: Row[] = [];
    for (const sh of shapes(ctx.quick)) rows.push(...compare(ctx, forward, sh, rng));
    for (const sh of backwardShapes(ctx.quick)) rows.push(...compare(ctx, backward, sh, rng));
    return rows;
  },
};

export const gemmOneThreadSuite: Suite = {
  name: 'gemm-one-thread',
  description: 'the 19m shapes of the gemm suite with one thread on every side (the kernels without the sharing of cores)',
  async run(ctx: SuiteContext): Promise<Row[]> {
    // Only the CPU backend has a thread pool to narrow.
    const be = getBackend(ctx.backend);
    if (!(be instanceof CpuBackend)) {
      ctx.log(`gemm-one-thread: the ${ctx.backend} backend has no thread pool to narrow; the suite is left out`);
      return [];
    }
    const rng = new Rng(3);
    const [forward, backward] = directions(be);
    const single = oneThreadShapes(ctx.quick);
    const rows: Row[] = [];
    for (const sh of single.forward) rows.push(...compare(ctx, forward, sh, rng, be));
    for (const sh of single.backward) rows.push(...compare(ctx, backward, sh, rng, be));
    return rows;
  },
};
