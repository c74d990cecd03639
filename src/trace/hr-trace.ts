// One HR fine-tuning step's forward and backward, captured in the trace format of DESIGN.md section 3:
// the end-to-end check that an independent implementation of the model can reproduce.
import type { Backend } from '../engine/backend';
import { modelConfig, ModelConfig, ModelSize } from '../model/config';
import { minMaxScaleWindows } from '../model/input';
import { PpgGpt } from '../model/ppg-gpt';
import { HrStep } from '../train/hr-step';
import { randomWindows } from '../data/synth/random-windows';
import { Rng } from '../util/random';

export interface TraceTensor {
  dtype: 'F32';
  shape: number[];
  data: Float32Array;
}

/** A data-dependent decision of the engine's forward: 1 where it took the branch, 0 where it did not. */
export interface TraceMask {
  dtype: 'U8';
  shape: number[];
  data: Uint8Array;
}

export interface HrTrace {
  config: ModelConfig;
  tensors: Record<string, TraceTensor>;
  /**
   * `mask.gpt_layers.{i}.ffn.relu` [B, S, 4D]: which linear1 units the engine's ReLU passed. A unit whose
   * pre-activation lies within float32 rounding of zero can fall on either side in float32 and float64, and
   * that flips its whole gradient; the checker builds its float64 gradients with these masks and reports
   * such units separately (tools/pytorch/check_trace.py), so a 1e-4 comparison holds at any model size.
   */
  masks: Record<string, TraceMask>;
}


/** The trace of one step of `model` (any parameters) on the batch (x already min–max scaled). */
export function traceStep(model: PpgGpt, x: Float32Array, y: Float32Array, w: Float32Array): HrTrace {
  const backend = model.backend, config = model.config;
  const B = y.length, L = x.length / B;
  const step = new HrStep(model, B, 1);
  step.forward({ x, hr: y, w });
  step.backward();
  const out = backend.download(step.acts.hr!.out);
  const mu = new Float32Array(B), logb = new Float32Array(B);
  for (let i = 0; i < B; i++) {
    mu[i] = out[2 * i];
    logb[i] = out[2 * i + 1];
  }
  const tensors: Record<string, TraceTensor> = {};
  const put = (name: string, shape: number[], data: Float32Array) => (tensors[name] = { dtype: 'F32', shape, data });
  for (const p of model.store.list()) put(p.spec.name, p.spec.shape, backend.download(p.value));
  put('x', [B, L], x);
  put('y', [B], y);
  put('w', [B], w);
  put('out.mu', [B], mu);
  put('out.logb', [B], logb);
  put('out.pred', [B], backend.download(step.bufs.pred));
  put('out.loss', [1], backend.download(step.bufs.loss));
  for (const p of model.store.list()) put(`grad.${p.spec.name}`, p.spec.shape, backend.download(p.grad));
  const masks: Record<string, TraceMask> = {};
  step.acts.blocks.forEach((b, i) => {
    // f1 holds ReLU's output (applied in place, no dropout in a trace): the unit passed iff it is positive.
    const f1 = backend.download(b.f1);
    masks[`mask.gpt_layers.${i}.ffn.relu`] = { dtype: 'U8', shape: [...b.f1.shape], data: Uint8Array.from(f1, (v) => (v > 0 ? 1 : 0)) };
  });
  return { config, tensors, masks };
}

/** A freshly initialised model's step on a seeded random batch: what `fairtune trace` writes. */
export function hrTrace(backend: Backend, opts: { size: ModelSize; seed: number; batch: number; patches: number; layers?: number }): HrTrace {
  // Fewer layers keep a size's widths (every kernel shape) at a fraction of the time: slow backends are checked so.
  const config = modelConfig(opts.size, { hrPatches: opts.patches, ...(opts.layers !== undefined ? { layers: opts.layers } : {}) });
  const model = new PpgGpt(backend, config, { next: false, hr: true });
  model.store.initialise(config, opts.seed);
  const rng = new Rng(opts.seed + 1);
  const B = opts.batch, L = opts.patches * config.patch;
  const x = minMaxScaleWindows(randomWindows(rng, B, L), L);
  const y = rng.fillUniform(new Float32Array(B), 45, 175);
  // Weights around 1/B (the loss is Σ w·ℓ), unequal so that the weighting is checked too.
  const w = rng.fillUniform(new Float32Array(B), 0.5 / B, 1.5 / B);
  return traceStep(model, x, y, w);
}

/** Every tensor of the trace file: parameters, batch, outputs, gradients and the ReLU masks. */
export function traceFileTensors(trace: HrTrace): Record<string, TraceTensor | TraceMask> {
  return { ...trace.tensors, ...trace.masks };
}

/** The trace file's __metadata__ (DESIGN.md section 3): the model config as JSON, and provenance. */
export function traceMetadata(config: ModelConfig, backend: string, seed: number): Record<string, string> {
  const c = config;
  return {
    config: JSON.stringify({ dim: c.dim, layers: c.layers, heads: c.heads, patch: c.patch, lambda: c.lambda, eps: c.eps,
      rmsEps: c.rmsEps, lnEps: c.lnEps, ffnMult: c.ffnMult, hrPatches: c.hrPatches }),
    backend,
    seed: String(seed),
  };
}
