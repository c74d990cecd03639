// Time per op family inside a training step (`fairtune profile --ops`): the backend is wrapped so that every
// op call is timed and booked to a family (GEMMs by their role in the block, attention, norms, dropout, AdamW,
// zeroing, copies …), which shows what a step spends outside the GEMMs. Meaningful only where ops run
// synchronously on the calling thread (cpu, reference); a device backend queues work, so its per-call wall
// time says nothing and is refused.
import { performance } from 'perf_hooks';
import type { Backend } from '../engine/backend';
import type { Tensor } from '../engine/tensor';

export interface OpFamilyTime {
  family: string;
  /** Milliseconds per step. */
  ms: number;
  calls: number;
}

/** The family a GEMM belongs to, from its weight's shape [M, K] (or [G, M, K], stacked) and the model width D. */
function gemmRole(w: Tensor | undefined, D: number): string {
  if (!w || (w.rank !== 2 && w.rank !== 3)) return 'other';
  const [M, K] = w.shape.slice(-2);
  if (M === D && K === D) return 'attention projections';
  if (K === D && M === 4 * D) return 'MLP linear1';
  if (M === D && K === 4 * D) return 'MLP linear2';
  if (M === 2) return 'HR head';
  if (K === D) return 'next-patch head';
  return 'other';
}

/** The family of one call; `D` tells the GEMM roles apart. */
export function opFamily(op: string, args: readonly unknown[], D: number): string {
  switch (op) {
    case 'linear': case 'linearFanout': return `GEMM ${gemmRole(args[1] as Tensor, D)} fwd`;
    case 'linearBackward': case 'linearFanoutBackward': return `GEMM ${gemmRole(args[2] as Tensor, D)} bwd`;
    case 'patchEmbed': return 'GEMM patch embedding fwd';
    case 'patchEmbedBackward': return 'GEMM patch embedding bwd';
    case 'ropeAttention': return 'attention fwd';
    case 'ropeAttentionBackward': return 'attention bwd';
    case 'rmsNorm': case 'rmsNormBackward': case 'layerNorm': case 'layerNormBackward': return 'norms';
    case 'relu': case 'reluBackward': case 'gelu': case 'geluBackward': return 'activations';
    case 'dropout': case 'dropoutBackward': return 'dropout';
    case 'add': case 'accumulate': case 'gradReverse': return 'residual adds and accumulation';
    case 'startToken': case 'startTokenBackward': case 'meanPool': case 'meanPoolBackward': return 'token rows';
    case 'hrLoss': case 'hrLossBackward': case 'nextPatchNll': case 'nextPatchNllBackward': case 'bceWithLogits':
    case 'bceWithLogitsBackward': case 'softmaxCrossEntropy': case 'softmaxCrossEntropyBackward': return 'losses';
    case 'groupDroUpdate': return 'GroupDRO';
    case 'groupLossReweight': return 'group reweighting';
    case 'adamw': return 'AdamW';
    case 'sumSquares': case 'globalNorm': case 'scale': return 'gradient norm and clipping';
    case 'zero': return 'zeroing';
    case 'copy': case 'upload': case 'download': return 'copies and transfers';
    default: return op;
  }
}

/** Methods that cost no compute (handles, views, bookkeeping): not timed. */
const UNTIMED = new Set(['tensor', 'view', 'slice0', 'dispose', 'stats', 'name', 'description', 'constructor']);

export interface OpTimer {
  backend: Backend;
  /** Forgets everything booked so far (after warm-up steps). */
  reset(): void;
  /** Closes the book of the step that just ended: later calls go to the next step's. */
  endStep(): void;
  /**
   * The families of the i-th step closed since reset, largest first. One step's book, not a mean over steps:
   * a step slowed by the machine's other load would otherwise inflate every family past the median step time.
   */
  step(i: number): OpFamilyTime[];
}

export function timeOps(be: Backend, modelDim: number): OpTimer {
  if (be.name !== 'cpu' && be.name !== 'reference') {
    throw new Error(`--ops times each op call as it returns, which only means something on a backend that runs ops synchronously (cpu, reference), not ${be.name}`);
  }
  let book = new Map<string, { ms: number; calls: number }>();
  const closed: Map<string, { ms: number; calls: number }>[] = [];
  const backend = new Proxy(be, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string' || UNTIMED.has(prop)) return typeof v === 'function' ? v.bind(target) : v;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const r = v.apply(target, args);
        const dt = performance.now() - t0;
        const family = opFamily(prop, args, modelDim);
        const e = book.get(family) ?? { ms: 0, calls: 0 };
        e.ms += dt;
        e.calls++;
        book.set(family, e);
        return r;
      };
    },
  });
  return {
    backend,
    reset: () => {
      book = new Map();
      closed.length = 0;
    },
    endStep: () => {
      closed.push(book);
      book = new Map();
    },
    step: (i) => {
      const stepBook = closed[i];
      if (!stepBook) throw new Error(`op timer: step ${i} was not booked (${closed.length} closed)`);
      return [...stepBook.entries()].map(([family, e]) => ({ family, ms: e.ms, calls: e.calls })).sort((a, b) => b.ms - a.ms);
    },
  };
}
