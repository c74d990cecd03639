// One HR fine-tuning step on the device: forward, fused L1 + logit-Laplace loss with per-sample weights and
// per-group sums, an optional hook that may reset the weights on the device (GroupDRO), backward, AdamW.
// Only scalars (the loss, group sums, the gradient norm) come back to the host.
import type { Backend, HrLossOptions } from '../engine/backend';
import type { Tensor } from '../engine/tensor';
import { Activations, planActivations } from '../model/activations';
import type { PpgGpt } from '../model/ppg-gpt';
import type { AdamW } from './adamw';

export interface HrLossBuffers {
  hr: Tensor; w: Tensor; group: Tensor;
  pred: Tensor; sampleLoss: Tensor; loss: Tensor;
  groupLossSum: Tensor; groupCount: Tensor;
}

export interface HrBatch {
  /** [B · T·P] min–max scaled windows. */
  x: Float32Array;
  /** [B] HR in bpm. */
  hr: Float32Array;
  /** [B] per-sample weights (default all 1). */
  w?: Float32Array;
  /** [B] group ids (default all 0). */
  group?: Float32Array;
}

export interface HrStepResult {
  loss: number;
  groupLossSum: Float32Array;
  groupCount: Float32Array;
  gradNorm: number;
}

export class HrStep {
  readonly acts: Activations;
  readonly bufs: HrLossBuffers;
  private readonly ones: Float32Array;
  private readonly zeros: Float32Array;

  constructor(readonly model: PpgGpt, readonly batchSize: number, readonly groups: number) {
    const be = model.backend, B = batchSize;
    this.acts = planActivations(be, model.config, { B, T: model.config.hrPatches, training: true, head: 'hr' });
    this.bufs = {
      hr: be.tensor([B]), w: be.tensor([B]), group: be.tensor([B]),
      pred: be.tensor([B]), sampleLoss: be.tensor([B]), loss: be.tensor([1]),
      groupLossSum: be.tensor([groups]), groupCount: be.tensor([groups]),
    };
    this.ones = new Float32Array(B).fill(1);
    this.zeros = new Float32Array(B);
  }

  get lossOptions(): HrLossOptions {
    return { lambda: this.model.config.lambda, eps: this.model.config.eps };
  }

  /** Uploads the batch, runs forward and the loss; leaves everything on the device for backward(). */
  forward(batch: HrBatch, dropout?: { seed: number; step: number }): void {
    const be = this.model.backend, b = this.bufs;
    be.upload(this.acts.x, batch.x);
    be.upload(b.hr, batch.hr);
    be.upload(b.w, batch.w ?? this.ones);
    be.upload(b.group, batch.group ?? this.zeros);
    this.model.forwardHr(this.acts, { dropout });
    be.hrLoss(this.acts.hr!.out, b.hr, b.w, b.group, this.lossOptions, b.pred, b.sampleLoss, b.loss, b.groupLossSum, b.groupCount);
  }

  /** Zeroes gradients and back-propagates loss·scale (scale < 1 for gradient accumulation). */
  backward(dropout?: { seed: number; step: number }, scale = 1, zeroGrads = true): void {
    const be: Backend = this.model.backend, g = this.acts.grads!;
    if (zeroGrads) this.model.store.zeroGrads();
    be.zero(g.dout!);
    be.hrLossBackward(this.acts.hr!.out, this.bufs.hr, this.bufs.w, this.lossOptions, g.dout!, scale);
    this.model.backwardHr(this.acts, { dropout });
  }

  /**
   * A whole step. `beforeBackward` runs on the device after the loss (GroupDRO rewrites bufs.w there).
   */
  run(batch: HrBatch, optim: AdamW, opts: { lr: number; seed: number; beforeBackward?: (bufs: HrLossBuffers) => void }): HrStepResult {
    const dropout = { seed: opts.seed, step: optim.step };
    this.forward(batch, dropout);
    const be = this.model.backend;
    const loss = be.download(this.bufs.loss)[0];
    const groupLossSum = be.download(this.bufs.groupLossSum);
    const groupCount = be.download(this.bufs.groupCount);
    opts.beforeBackward?.(this.bufs);
    this.backward(dropout);
    const gradNorm = optim.update(opts.lr);
    return { loss, groupLossSum, groupCount, gradNorm };
  }
}
