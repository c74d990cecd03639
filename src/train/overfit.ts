// Overfitting a handful of windows: the smallest end-to-end proof that forward, backward and the optimiser
// agree (used by the demo command and by the training tests on every backend).
import type { Backend } from '../engine/backend';
import { modelConfig, ModelSize } from '../model/config';
import { minMaxScaleWindows } from '../model/input';
import { PpgGpt } from '../model/ppg-gpt';
import { randomWindows } from '../data/synth/random-windows';
import { Rng } from '../util/random';
import { AdamW, DEFAULT_ADAMW } from './adamw';
import { HrStep } from './hr-step';

export interface OverfitPoint {
  step: number;
  loss: number;
  /** Mean absolute HR error of the batch in bpm. */
  mae: number;
}

export function overfitDemo(
  backend: Backend,
  opts: { size?: ModelSize; windows?: number; steps?: number; seed?: number; lr?: number; dropout?: number; onStep?: (p: OverfitPoint) => void } = {},
): OverfitPoint[] {
  const B = opts.windows ?? 8, steps = opts.steps ?? 150, seed = opts.seed ?? 0;
  const config = modelConfig(opts.size ?? 'tiny', { hrPatches: 10, dropout: opts.dropout ?? 0 });
  const model = new PpgGpt(backend, config, { next: false, hr: true });
  model.store.initialise(config, seed);
  const rng = new Rng(seed + 7);
  const L = config.hrPatches * config.patch;
  const x = minMaxScaleWindows(randomWindows(rng, B, L), L);
  const hr = rng.fillUniform(new Float32Array(B), 50, 170);
  const step = new HrStep(model, B, 1);
  const optim = new AdamW(backend, model.store, { ...DEFAULT_ADAMW, weightDecay: 0, clipNorm: 5 });
  const history: OverfitPoint[] = [];
  for (let s = 0; s < steps; s++) {
    const r = step.run({ x, hr }, optim, { lr: opts.lr ?? 3e-3, seed });
    const pred = backend.download(step.bufs.pred);
    let mae = 0;
    for (let i = 0; i < B; i++) mae += Math.abs(pred[i] - hr[i]) / B;
    const p = { step: s, loss: r.loss, mae };
    history.push(p);
    opts.onStep?.(p);
  }
  return history;
}
