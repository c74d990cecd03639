// The resumable state of a training loop in one safetensors file, written atomically: current parameters,
// AdamW moments, strategy state, the best-so-far snapshot (early stopping) and, in the metadata, the loop's
// position (epoch, next batch, optimiser step) and accumulators. A resumed run reads only this file and
// continues bit for bit where the interrupted one stopped (samplers and dropout masks are pure functions of
// seed, epoch and step).
import * as fs from 'fs';
import { readSafetensors, writeSafetensors, TensorEntry } from '../util/safetensors';

export const TRAIN_STATE_FORMAT = 'fairtune.train-state/1';

export interface TrainState {
  /** JSON-serialisable loop position and accumulators. */
  loop: Record<string, unknown>;
  /** Named float32 arrays: 'param.<name>', 'adam.m.<name>', 'adam.v.<name>', 'best.<name>', 'strategy.<key>'. */
  arrays: Map<string, { shape: number[]; data: Float32Array }>;
}

export function saveTrainState(path: string, s: TrainState, config: unknown): void {
  const tensors: Record<string, TensorEntry> = {};
  for (const [name, a] of s.arrays) tensors[name] = { dtype: 'F32', shape: a.shape, data: a.data };
  writeSafetensors(path, tensors, { format: TRAIN_STATE_FORMAT, loop: JSON.stringify(s.loop), config: JSON.stringify(config) });
}

export function loadTrainState(path: string, expectConfig: unknown): TrainState {
  if (!fs.existsSync(path)) throw new Error(`--resume: no training state at ${path}`);
  const f = readSafetensors(path);
  if (f.metadata.format !== TRAIN_STATE_FORMAT) throw new Error(`${path} is not a fairtune training state (format ${JSON.stringify(f.metadata.format)})`);
  if (f.metadata.config !== JSON.stringify(expectConfig)) {
    throw new Error(`${path} was written by a run with another configuration; resume with the same options (or start afresh without --resume)`);
  }
  const arrays = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [n, t] of Object.entries(f.tensors)) {
    if (!(t.data instanceof Float32Array)) throw new Error(`${path}: '${n}' is ${t.dtype}, expected F32`);
    arrays.set(n, { shape: t.shape, data: t.data });
  }
  return { loop: JSON.parse(f.metadata.loop) as Record<string, unknown>, arrays };
}

/** Arrays under `prefix.` with the prefix removed. */
export function withPrefix(arrays: TrainState['arrays'], prefix: string): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [n, a] of arrays) if (n.startsWith(`${prefix}.`)) out.set(n.slice(prefix.length + 1), a);
  return out;
}
