// The scaling profile: for a model size and batch size, the parameter count, the analytic FLOPs of a step,
// the planned memory (checked against the budget before anything is allocated), and then the real HR
// fine-tuning step (HrStep + AdamW on the chosen backend) timed, with the process's peak RSS after it.
import * as fs from 'fs';
import type { Backend } from '../engine/backend';
import { getBackend } from '../engine/registry';
import { ModelSize, modelConfig, type ModelConfig } from '../model/config';
import { checkMemory, memoryBudget, planMemory, type MemoryPlan } from '../model/memory';
import { PpgGpt } from '../model/ppg-gpt';
import { AdamW, DEFAULT_ADAMW } from '../train/adamw';
import { HrStep } from '../train/hr-step';
import { Rng } from '../util/random';
import { stepFlops, type StepFlops } from './flops';
import { timeOps, type OpFamilyTime, type OpTimer } from './op-timer';

// AdamW runs at learning rate 0: the same arithmetic as any other rate (the update is computed and written), so
// the step costs the same, but the random model stays where it was and the loss stays finite. At 1e-5, which
// this once was, the random 85m and 1b models' losses reached 1e4 and 1e16 within three steps (2026-12-03), and
// a non-finite one would have ended the sweep.
const PROFILE_LR = 0;

export interface ProfileCase {
  size: ModelSize;
  batch: number;
  /** Patches per window (S = T + 1 tokens); the HR head is built for it. */
  patches: number;
  steps: number;
  backend: string;
  /** Also time every op call by family (cpu and reference only). */
  ops?: boolean;
  /**
   * Precision of the GEMMs: 'fp32', 'bf16' (cpu: bf16 GEMMs on AVX512_BF16, fp32 master weights; cuda: tensor
   * cores) or 'tf32' (cuda). Unset: the mode the backend is in (FAIRTUNE_COMPUTE sets it), left as it is.
   */
  compute?: ComputeChoice;
  /**
   * Dropout probability of the model during the step (default 0: the step the PyTorch peer of `npm run bench`
   * runs, dropout-free; 0.1 is the models' training default, whose masks then show as the 'dropout' family).
   */
  dropout?: number;
}

export type ComputeChoice = 'fp32' | 'bf16' | 'tf32';
const COMPUTE_CHOICES: readonly string[] = ['fp32', 'bf16', 'tf32'];

export function isComputeChoice(s: string): s is ComputeChoice {
  return COMPUTE_CHOICES.includes(s);
}

/** A backend whose GEMM precision can be chosen (cpu, cuda); the mode is process-wide. */
interface ComputeModes {
  setComputeMode(mode: ComputeChoice): void;
  info(): { computeMode: ComputeChoice; isa?: string; bf16Supported?: boolean };
}

function computeModes(be: object): ComputeModes | null {
  const m = be as Partial<ComputeModes>;
  return typeof m.setComputeMode === 'function' && typeof m.info === 'function' ? (m as ComputeModes) : null;
}

/** The GEMM precision a backend runs in now: its mode, or fp32 for a backend without modes. */
export function currentCompute(backend: string): ComputeChoice {
  try {
    return computeModes(getBackend(backend))?.info().computeMode ?? 'fp32';
  } catch {
    // A backend that cannot load fails in each case, with the reason, where the profile reports failures.
    return 'fp32';
  }
}

export interface ProfileResult {
  size: ModelSize;
  batch: number;
  patches: number;
  params: number;
  flops: StepFlops;
  plan: MemoryPlan;
  planLine: string;
  /** Peak resident set (VmHWM) after the steps, bytes; null where /proc is missing. */
  peakRssBytes: number | null;
  /** Median over the timed steps (the first step, which faults pages in, is not timed when steps > 1). */
  msPerStep: number;
  stepMs: number[];
  windowsPerSecond: number;
  gflops: number;
  setupMs: number;
  /** With `ops`: milliseconds by op family in the median timed step (the one msPerStep is), largest first. */
  ops?: OpFamilyTime[];
  /** The GEMM precision the step ran in. */
  compute: ComputeChoice;
  /** The model's dropout probability during the step. */
  dropout: number;
}

/** The process's peak resident set, from /proc/self/status (Linux). */
export function peakRss(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The plan of a case, and its one-line description; throws (naming the sizes) when it does not fit. */
export function planCase(c: ProfileCase, budget = memoryBudget()): { plan: MemoryPlan; line: string } {
  const config = caseConfig(c);
  const plan = planMemory(config, { B: c.batch, T: c.patches, training: true, head: 'hr' });
  return { plan, line: checkMemory(`${c.size} B=${c.batch} T=${c.patches}`, plan, budget) };
}

export function profileCase(c: ProfileCase, log: (msg: string) => void = () => {}): ProfileResult {
  if (!Number.isInteger(c.steps) || c.steps < 1) throw new Error(`profile: steps must be a positive integer, got ${c.steps}`);
  if (c.compute !== undefined && !isComputeChoice(c.compute)) {
    throw new Error(`profile: compute must be one of ${COMPUTE_CHOICES.join(', ')}, got '${String(c.compute)}'`);
  }
  const engine = getBackend(c.backend);
  const modes = computeModes(engine);
  // Without a mode switch a backend runs fp32 only; asking it for another mode must not silently profile fp32.
  if (!modes) {
    if (c.compute !== undefined && c.compute !== 'fp32') {
      throw new Error(`profile: backend '${c.backend}' has no compute modes, so no ${c.compute} (the cpu and cuda backends have them)`);
    }
    return runProfile(c, engine, 'fp32', log);
  }
  const { computeMode: before, isa, bf16Supported } = modes.info();
  const compute = c.compute ?? before;
  // A lowered ISA (FAIRTUNE_ISA=avx2) runs the fp32 kernels whatever the mode: such a profile would be labelled
  // bf16 while measuring fp32 GEMMs. (A CPU without AVX512_BF16 is left to the backend, which says so.)
  if (compute === 'bf16' && bf16Supported === true && isa !== undefined && isa !== 'avx512') {
    throw new Error(`profile: the bf16 mode needs the avx512 kernels, but the ISA is lowered to ${isa} (FAIRTUNE_ISA / setIsa)`);
  }
  if (compute === before) return runProfile(c, engine, compute, log);
  // The mode is process-wide: the case runs in the mode asked for, and the one found is put back afterwards,
  // whatever happens (an error from the case itself is the one that propagates).
  modes.setComputeMode(compute);
  let result: ProfileResult;
  try {
    result = runProfile(c, engine, compute, log);
  } catch (e) {
    try {
      modes.setComputeMode(before);
    } catch {
      // the case's own error says more
    }
    throw e;
  }
  modes.setComputeMode(before);
  return result;
}

/** The model a case profiles: its size, built for its window length, with its dropout (checked here). */
function caseConfig(c: ProfileCase): ModelConfig {
  const dropout = c.dropout ?? 0;
  if (typeof dropout !== 'number' || !Number.isFinite(dropout) || dropout < 0 || dropout >= 1) {
    throw new Error(`profile: dropout must be a number in [0, 1), got ${String(c.dropout)}`);
  }
  return modelConfig(c.size, { hrPatches: c.patches, maxPatches: Math.max(60, c.patches), dropout });
}

function runProfile(c: ProfileCase, engine: Backend, compute: ComputeChoice, log: (msg: string) => void): ProfileResult {
  const { plan, line } = planCase(c);
  const config = caseConfig(c);
  const timer: OpTimer | null = c.ops ? timeOps(engine, config.dim) : null;
  const be = timer?.backend ?? engine;
  const t0 = Date.now();
  const model = new PpgGpt(be, config, { next: false, hr: true });
  model.store.initialise(config, 1);
  const step = new HrStep(model, c.batch, 1);
  const optim = new AdamW(be, model.store, DEFAULT_ADAMW);
  const rng = new Rng(7);
  const x = new Float32Array(c.batch * c.patches * config.patch);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
  const hr = new Float32Array(c.batch);
  for (let i = 0; i < hr.length; i++) hr[i] = 40 + 140 * rng.uniform();
  const setupMs = Date.now() - t0;
  const stepMs: number[] = [];
  // The first step, when there are several, warms up: the timed steps, and the op books, start after it.
  const firstTimed = c.steps > 1 ? 1 : 0;
  for (let s = 0; s < c.steps; s++) {
    if (s === firstTimed) timer?.reset();
    const a = process.hrtime.bigint();
    const r = step.run({ x, hr }, optim, { lr: PROFILE_LR, seed: 1 });
    stepMs.push(Number(process.hrtime.bigint() - a) / 1e6);
    if (s >= firstTimed) timer?.endStep();
    if (!Number.isFinite(r.loss)) throw new Error(`profile: ${c.size} B=${c.batch}: loss is ${r.loss} at step ${s + 1}`);
    log(`${c.size} B=${c.batch}: step ${s + 1}/${c.steps} ${stepMs[s].toFixed(0)} ms, loss ${r.loss.toFixed(3)}`);
  }
  const timed = stepMs.slice(firstTimed);
  const sorted = [...timed].sort((p, q) => p - q);
  const msPerStep = sorted[sorted.length >> 1];
  const medianStep = timed.indexOf(msPerStep);
  const flops = stepFlops(config, c.batch, c.patches);
  const peakRssBytes = peakRss();
  for (const t of step.acts.all) be.dispose(t);
  model.store.dispose();
  return {
    size: c.size, batch: c.batch, patches: c.patches, params: plan.params, flops, plan, planLine: line, peakRssBytes,
    msPerStep, stepMs, windowsPerSecond: (c.batch * 1000) / msPerStep, gflops: flops.total / msPerStep / 1e6, setupMs,
    ...(timer ? { ops: timer.step(medianStep) } : {}), compute, dropout: config.dropout,
  };
}
