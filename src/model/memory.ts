// Planned memory of a run, computed before anything is allocated: parameters, gradients, AdamW moments and
// the activation plan of the chosen batch (the very same planActivations call, made on a dry allocator that
// only records shapes), so the estimate cannot drift from what a run really allocates.
import * as os from 'os';
import type { Backend } from '../engine/backend';
import { Tensor } from '../engine/tensor';
import { planActivations, PlanOptions } from './activations';
import type { ModelConfig } from './config';
import { countParams, paramSpecs } from './params';

export interface MemoryPlan {
  params: number;
  paramBytes: number;
  gradBytes: number;
  optimizerBytes: number;
  activationBytes: number;
  totalBytes: number;
}

/**
 * A stand-in with what planActivations calls: `tensor` records its size and allocates nothing; views and
 * slices (the windows inside the input buffer) take no memory of their own.
 */
function dryBackend(sizes: number[]): Backend {
  const dry = (shape: readonly number[]) => new Tensor('dry', shape, null, { disposed: false });
  return {
    tensor(shape: readonly number[]) {
      const t = dry(shape);
      sizes.push(t.size);
      return t;
    },
    view: (_: Tensor, shape: readonly number[]) => dry(shape),
    slice0: (t: Tensor, _start: number, count: number) => dry([count, ...t.shape.slice(1)]),
  } as unknown as Backend;
}

export function planMemory(c: ModelConfig, plan: PlanOptions, heads = { next: plan.head === 'next', hr: plan.head === 'hr' }): MemoryPlan {
  const n = countParams(paramSpecs(c, heads));
  const sizes: number[] = [];
  planActivations(dryBackend(sizes), c, plan);
  const activationBytes = sizes.reduce((a, s) => a + s * 4, 0);
  const paramBytes = 4 * n;
  const gradBytes = plan.training ? 4 * n : 0;
  const optimizerBytes = plan.training ? 8 * n : 0;
  return { params: n, paramBytes, gradBytes, optimizerBytes, activationBytes, totalBytes: paramBytes + gradBytes + optimizerBytes + activationBytes };
}

export function formatBytes(b: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) {
    b /= 1024;
    i++;
  }
  return `${b.toFixed(i === 0 ? 0 : 2)} ${units[i]}`;
}

/** The budget runs are checked against: FAIRTUNE_MEMORY_LIMIT (bytes, or with a G/M suffix) or 90% of RAM. */
export function memoryBudget(): number {
  const env = process.env.FAIRTUNE_MEMORY_LIMIT;
  if (env) {
    const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(env.trim());
    if (!m) throw new Error(`FAIRTUNE_MEMORY_LIMIT must be bytes or a number with K, M or G, got '${env}'`);
    const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
    return Number(m[1]) * mult;
  }
  return 0.9 * os.totalmem();
}

/** Describes the plan; throws with the breakdown when it does not fit the budget. */
export function checkMemory(what: string, p: MemoryPlan, budget = memoryBudget()): string {
  const line = `${what}: ${(p.params / 1e6).toFixed(1)}M parameters · planned ${formatBytes(p.totalBytes)} ` +
    `(parameters ${formatBytes(p.paramBytes)}, gradients ${formatBytes(p.gradBytes)}, AdamW ${formatBytes(p.optimizerBytes)}, ` +
    `activations ${formatBytes(p.activationBytes)}) of ${formatBytes(budget)} available`;
  if (p.totalBytes > budget) throw new Error(`${line}: does not fit; lower the batch size (micro-batches) or the model size`);
  return line;
}
