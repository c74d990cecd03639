// Next-patch pretraining on unlabelled windows: token t predicts patch t under a logit-Laplace density
// (DESIGN.md section 3). One device step per batch; only the loss comes back.
import { toBatches, UniformSampler } from './sampling';
import { Activations, planActivations } from '../model/activations';
import type { PpgGpt } from '../model/ppg-gpt';
import type { Tensor } from '../engine/tensor';
import { AdamW, DEFAULT_ADAMW } from './adamw';
import { learningRate } from './schedule';

export interface PretrainConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  clipNorm: number;
  seed: number;
}

export class PretrainStep {
  readonly acts: Activations;
  readonly loss: Tensor;

  constructor(readonly model: PpgGpt, readonly batchSize: number, readonly patches: number) {
    this.acts = planActivations(model.backend, model.config, { B: batchSize, T: patches, training: true, head: 'next' });
    this.loss = model.backend.tensor([1]);
  }

  /** Forward and loss only (evaluation when the plan's dropout is not keyed). */
  forward(x: Float32Array, dropout?: { seed: number; step: number }): number {
    const be = this.model.backend;
    be.upload(this.acts.x, x);
    this.model.forwardNext(this.acts, { dropout });
    be.nextPatchNll(this.acts.next!, this.acts.x, this.model.config.eps, this.loss);
    return be.download(this.loss)[0];
  }

  run(x: Float32Array, optim: AdamW, lr: number, seed: number): number {
    const dropout = { seed, step: optim.step };
    const loss = this.forward(x, dropout);
    const be = this.model.backend, g = this.acts.grads!;
    this.model.store.zeroGrads();
    be.zero(g.dnext!);
    be.nextPatchNllBackward(this.acts.next!, this.acts.x, this.model.config.eps, g.dnext!, 1);
    this.model.backwardNext(this.acts, { dropout });
    optim.update(lr);
    return loss;
  }
}

export interface PretrainEpoch {
  epoch: number;
  loss: number;
  seconds: number;
}

/** x: [n · T·P] min–max scaled windows. */
export function pretrain(
  model: PpgGpt, x: Float32Array, patches: number, cfg: PretrainConfig,
  hooks: { onStep?(done: number, total: number, loss: number): void } = {},
): PretrainEpoch[] {
  const L = patches * model.config.patch;
  const n = x.length / L;
  if (!Number.isInteger(n) || n < 1) throw new Error(`pretrain: ${x.length} samples are not whole windows of ${L}`);
  const B = Math.min(cfg.batchSize, n);
  const sampler = new UniformSampler(n, cfg.seed);
  const step = new PretrainStep(model, B, patches);
  const optim = new AdamW(model.backend, model.store, { ...DEFAULT_ADAMW, lr: cfg.lr, weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm });
  const totalSteps = Math.floor(n / B) * cfg.epochs;
  const xb = new Float32Array(B * L);
  const out: PretrainEpoch[] = [];
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    const t0 = Date.now();
    let sum = 0, count = 0;
    for (const idx of toBatches(sampler.epochOrder(epoch), B, true)) {
      for (let b = 0; b < B; b++) xb.set(x.subarray(idx[b] * L, (idx[b] + 1) * L), b * L);
      const lr = learningRate(optim.step, { lr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps, minFactor: 0.1 });
      const loss = step.run(xb, optim, lr, cfg.seed);
      sum += loss;
      count++;
      hooks.onStep?.(optim.step, totalSteps, loss);
    }
    out.push({ epoch, loss: sum / Math.max(1, count), seconds: (Date.now() - t0) / 1000 });
  }
  return out;
}
