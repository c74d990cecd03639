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
  /** [B] per-sample weights of the loss Σ w·ℓ (default all 1/B: the mean). */
  w?: Float32Array;
  /** [B] group ids (default all 0). */
  group?: Float32Array;
}

/** What a bias-mitigation strategy may do inside a step (all on the device). */
export interface StepHooks {
  /** Sees the host batch before it is uploaded (ADV uploads its one-hot group targets). */
  onBatch?(batch: HrBatch): void;
  /** After the loss forward, before the backward: may rewrite bufs.w (GroupDRO). */
  beforeBackward?(bufs: HrLossBuffers): void;
  /** Adds further gradient into ∂loss/∂hOut (ADV: the adversary's reversed gradient). */
  encoderGradient?(acts: Activations, bufs: HrLossBuffers, dHOut: Tensor, dropout: { seed: number; step: number }): void;
  /** After the model's optimiser update (ADV updates the adversary). */
  afterUpdate?(lr: number): void;
  /**
   * Device tensors the strategy wants back after the step (GroupDRO's q, the adversary's loss and norm),
   * by name: copied on the device into the step's result buffer after the update, so they come back with
   * the step's one read.
   */
  results?(): Record<string, Tensor>;
  /** Scalars to log for the step just run, from the host values of results(). */
  stepLogs?(results: ReadonlyMap<string, Float32Array>): Record<string, number>;
}

/** Floats of the result buffer kept for the strategies' results (beyond the loss, group statistics and norm). */
const STRATEGY_RESULT_SLOTS = 64;

export interface HrStepResult {
  loss: number;
  groupLossSum: Float32Array;
  groupCount: Float32Array;
  gradNorm: number;
  /** Strategy scalars (e.g. the adversary's loss). */
  logs: Record<string, number>;
}

export class HrStep {
  readonly acts: Activations;
  readonly bufs: HrLossBuffers;
  private readonly equalWeights: Float32Array;
  private readonly zeros: Float32Array;
  private readonly stats: Tensor;
  private readonly norm: Tensor;
  /** The host side of the step's one upload: [windows | hr | w | group]. */
  private readonly inputHost: Float32Array;

  constructor(readonly model: PpgGpt, readonly batchSize: number, readonly groups: number) {
    const be = model.backend, B = batchSize;
    // One buffer each way, so a step moves one copy up and one copy down: the windows, labels, weights and
    // group ids go up together ([x | hr | w | group], the labels planned after the windows), and the loss,
    // the group statistics and the gradient norm come back together ([loss | groupLossSum | groupCount |
    // norm]) after the update. The named tensors are views into them.
    this.acts = planActivations(be, model.config, { B, T: model.config.hrPatches, training: true, head: 'hr', labels: 3 * B });
    const X = this.acts.x.size;
    this.stats = be.tensor([2 + 2 * groups + STRATEGY_RESULT_SLOTS]);
    this.bufs = {
      hr: be.slice0(this.acts.input, X, B), w: be.slice0(this.acts.input, X + B, B), group: be.slice0(this.acts.input, X + 2 * B, B),
      pred: be.tensor([B]), sampleLoss: be.tensor([B]), loss: be.slice0(this.stats, 0, 1),
      groupLossSum: be.slice0(this.stats, 1, groups), groupCount: be.slice0(this.stats, 1 + groups, groups),
    };
    this.norm = be.slice0(this.stats, 1 + 2 * groups, 1);
    this.inputHost = new Float32Array(X + 3 * B);
    // The loss is Σ w·ℓ: equal weights 1/B make it the batch mean.
    this.equalWeights = new Float32Array(B).fill(1 / B);
    this.zeros = new Float32Array(B);
  }

  get lossOptions(): HrLossOptions {
    return { lambda: this.model.config.lambda, eps: this.model.config.eps };
  }

  /** Uploads the batch (one copy), runs forward and the loss; leaves everything on the device for backward(). */
  forward(batch: HrBatch, dropout?: { seed: number; step: number }): void {
    const be = this.model.backend, b = this.bufs;
    const B = this.batchSize, X = this.acts.x.size, h = this.inputHost;
    if (batch.x.length !== X) throw new Error(`HR step: batch.x has ${batch.x.length} values; the step takes ${B} windows of ${X / B} samples (${X})`);
    for (const [name, v] of [['hr', batch.hr], ['w', batch.w], ['group', batch.group]] as const) {
      if (v !== undefined && v.length !== B) throw new Error(`HR step: batch.${name} has ${v.length} values for a batch of ${B}`);
    }
    h.set(batch.x, 0);
    h.set(batch.hr, X);
    h.set(batch.w ?? this.equalWeights, X + B);
    h.set(batch.group ?? this.zeros, X + 2 * B);
    be.upload(this.acts.input, h);
    this.model.forwardHr(this.acts, { dropout });
    be.hrLoss(this.acts.hr!.out, b.hr, b.w, b.group, this.lossOptions, b.pred, b.sampleLoss, b.loss, b.groupLossSum, b.groupCount);
  }

  /** Zeroes gradients and back-propagates loss·scale (scale < 1 for gradient accumulation). */
  backward(dropout?: { seed: number; step: number }, scale = 1, zeroGrads = true, extra?: (dHOut: Tensor) => void): void {
    const be: Backend = this.model.backend, g = this.acts.grads!;
    if (zeroGrads) this.model.store.zeroGrads();
    be.zero(g.dout!);
    be.hrLossBackward(this.acts.hr!.out, this.bufs.hr, this.bufs.w, this.lossOptions, g.dout!, scale);
    this.model.backwardHr(this.acts, { dropout }, extra);
  }

  /**
   * A whole step — forward, loss, the strategy's hooks, backward, AdamW — or, with `micro`, one of `count`
   * micro-batches of a step: gradients are zeroed before the first, each backward is scaled by 1/count so
   * they add up to the mean over the whole batch, and the optimiser updates after the last. The results come
   * back in one read at the end (the update clips by the norm on the device); a gradient norm that is not
   * finite is refused then, the update having changed nothing.
   */
  run(batch: HrBatch, optim: AdamW, opts: { lr: number; seed: number; hooks?: StepHooks; micro?: { index: number; count: number } }): HrStepResult {
    const micro = opts.micro ?? { index: 0, count: 1 };
    // Every micro-batch draws its own dropout masks; with count 1 the key is (seed, optimiser step).
    const dropout = { seed: opts.seed, step: optim.step * micro.count + micro.index };
    const hooks = opts.hooks ?? {};
    hooks.onBatch?.(batch);
    this.forward(batch, dropout);
    hooks.beforeBackward?.(this.bufs);
    const extra = hooks.encoderGradient ? (d: Tensor) => hooks.encoderGradient!(this.acts, this.bufs, d, dropout) : undefined;
    this.backward(dropout, 1 / micro.count, micro.index === 0, extra);
    const updates = micro.index === micro.count - 1;
    if (updates) {
      optim.launchUpdate(opts.lr, this.norm);
      hooks.afterUpdate?.(opts.lr);
    }
    const G = this.groups, be = this.model.backend;
    const wanted = this.placeResults(hooks.results?.() ?? {});
    const stats = be.download(this.stats);
    const loss = stats[0], groupLossSum = stats.slice(1, 1 + G), groupCount = stats.slice(1 + G, 1 + 2 * G);
    let gradNorm = NaN;
    if (updates) {
      gradNorm = stats[1 + 2 * G];
      optim.settle(gradNorm);
    }
    const results = new Map([...wanted].map(([name, at]) => [name, stats.slice(at.offset, at.offset + at.size)]));
    return { loss, groupLossSum, groupCount, gradNorm, logs: hooks.stepLogs?.(results) ?? {} };
  }

  /** Copies each result tensor (on the device) into the result buffer's strategy slots; where each went. */
  private placeResults(tensors: Record<string, Tensor>): Map<string, { offset: number; size: number }> {
    const be = this.model.backend, out = new Map<string, { offset: number; size: number }>();
    let at = 2 + 2 * this.groups;
    for (const [name, t] of Object.entries(tensors)) {
      if (at + t.size > this.stats.size) {
        throw new Error(`HR step: the strategy's results need more than the ${STRATEGY_RESULT_SLOTS} floats kept for them ('${name}' has ${t.size})`);
      }
      be.copy(be.view(t, [t.size]), be.slice0(this.stats, at, t.size));
      out.set(name, { offset: at, size: t.size });
      at += t.size;
    }
    return out;
  }
}
