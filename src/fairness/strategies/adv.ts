// Adversarial debiasing: an MLP adversary reads the embedding (mean-pooled final hidden states) and predicts
// the group (softmax cross-entropy over the G groups: one class per group, as a classifier of G > 2
// intersectional groups needs; independent sigmoids on one-hot targets do not model one group per window); its gradient reaches the encoder through a gradient-reversal layer of strength λ, so the
// encoder learns HR while making the group unpredictable. The adversary has its own AdamW and is trained
// on the same batches; all of it runs on the device.
import type { Backend } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import { linearBackwardOf, ParamStore } from '../../model/param-store';
import type { ParamSpec } from '../../model/params';
import type { Activations } from '../../model/activations';
import { AdamW, DEFAULT_ADAMW } from '../../train/adamw';
import type { HrBatch, HrLossBuffers } from '../../train/hr-step';
import { UniformSampler } from '../../train/sampling';
import type { Strategy, StrategyContext, StrategyState } from '../../train/strategy';

interface AdvBuffers {
  pooled: Tensor; h1: Tensor; logits: Tensor; targets: Tensor; loss: Tensor;
  dlogits: Tensor; dh1: Tensor; da1: Tensor; dpooled: Tensor; drev: Tensor;
}

export function adversarySpecs(dim: number, width: number, groups: number): ParamSpec[] {
  return [
    { name: 'adv.linear1.weight', shape: [width, dim], init: 'normal', part: 'adv' },
    { name: 'adv.linear1.bias', shape: [width], init: 'zeros', part: 'adv' },
    { name: 'adv.linear2.weight', shape: [groups, width], init: 'normal', part: 'adv' },
    { name: 'adv.linear2.bias', shape: [groups], init: 'zeros', part: 'adv' },
  ];
}

export class AdversarialStrategy implements Strategy {
  readonly name = 'adv';
  private backend: Backend | null = null;
  private store: ParamStore | null = null;
  private optim: AdamW | null = null;
  private bufs: AdvBuffers | null = null;
  /** The adversary's gradient norm, written on the device by its update and read with the step's results. */
  private norm: Tensor | null = null;
  private groups = 0;
  private batch = 0;

  constructor(readonly lambda: number, readonly width: number) {
    if (!(lambda >= 0 && Number.isFinite(lambda))) throw new Error(`adv: lambda must be a non-negative number, got ${lambda}`);
    if (!(Number.isInteger(width) && width > 0)) throw new Error(`adv: width must be a positive integer, got ${width}`);
  }

  sampler(ctx: StrategyContext) {
    return new UniformSampler(ctx.trainGroupOf.length, ctx.seed);
  }

  setup(ctx: StrategyContext, batchSize?: number): void {
    const be = ctx.backend, D = ctx.model.config.dim, G = ctx.groups, A = this.width;
    this.backend = be;
    this.groups = G;
    this.store = new ParamStore(be, adversarySpecs(D, A, G));
    this.store.initialise(ctx.model.config, ctx.seed + 101);
    this.optim = new AdamW(be, this.store, { ...DEFAULT_ADAMW, weightDecay: 0 });
    this.norm = be.tensor([1]);
    if (batchSize !== undefined) this.allocate(batchSize);
  }

  private allocate(B: number): void {
    const be = this.backend!, D = this.store!.get('adv.linear1.weight').spec.shape[1], A = this.width, G = this.groups;
    if (this.bufs) for (const t of Object.values(this.bufs)) be.dispose(t);
    this.batch = B;
    this.bufs = {
      pooled: be.tensor([B, D]), h1: be.tensor([B, A]), logits: be.tensor([B, G]), targets: be.tensor([B, G]), loss: be.tensor([1]),
      dlogits: be.tensor([B, G]), dh1: be.tensor([B, A]), da1: be.tensor([B, A]), dpooled: be.tensor([B, D]), drev: be.tensor([B, D]),
    };
  }

  /** Sizes the buffers to the batch; the targets are formed on the device from its group ids (no upload). */
  onBatch(batch: HrBatch): void {
    if (batch.hr.length !== this.batch) this.allocate(batch.hr.length);
  }

  encoderGradient(acts: Activations, bufs: HrLossBuffers, dHOut: Tensor): void {
    const be = this.backend!, s = this.store!, b = this.bufs!;
    be.oneHot(bufs.group, b.targets);
    be.meanPool(acts.hOut, b.pooled);
    be.linear(b.pooled, s.value('adv.linear1.weight'), s.value('adv.linear1.bias'), b.h1);
    be.relu(b.h1, b.h1);
    be.linear(b.h1, s.value('adv.linear2.weight'), s.value('adv.linear2.bias'), b.logits);
    be.softmaxCrossEntropy(b.logits, b.targets, b.loss);
    s.zeroGrads();
    // dh1 and dpooled are written by the linear backwards (overwriteDx), da1 by reluBackward; the parameter
    // gradients by the same calls (linearBackwardOf).
    for (const t of [b.dlogits, b.drev]) be.zero(t);
    be.softmaxCrossEntropyBackward(b.logits, b.targets, b.dlogits, 1);
    linearBackwardOf(s, b.dlogits, b.h1, 'adv.linear2.weight', 'adv.linear2.bias', b.dh1, true);
    be.reluBackward(b.dh1, b.h1, b.da1);
    linearBackwardOf(s, b.da1, b.pooled, 'adv.linear1.weight', 'adv.linear1.bias', b.dpooled, true);
    be.gradReverse(b.dpooled, b.drev, this.lambda);
    be.meanPoolBackward(b.drev, dHOut);
  }

  /** The adversary's update, clipped on the device; its norm and loss come back with the step's one read. */
  afterUpdate(lr: number): void {
    this.optim!.launchUpdate(lr, this.norm!);
  }

  results(): Record<string, Tensor> {
    return { advLoss: this.bufs!.loss, advNorm: this.norm! };
  }

  stepLogs(results: ReadonlyMap<string, Float32Array>): Record<string, number> {
    const [loss] = results.get('advLoss') ?? this.backend!.download(this.bufs!.loss);
    const [norm] = results.get('advNorm') ?? this.backend!.download(this.norm!);
    this.optim!.settle(norm);
    return { advLoss: loss };
  }

  /** The adversary's parameters and its optimiser (moments and step), so a resumed run continues exactly. */
  state(): StrategyState {
    const out: StrategyState = {};
    for (const p of this.store!.list()) out[p.spec.name] = { shape: [...p.spec.shape], data: this.backend!.download(p.value) };
    for (const [n, mv] of this.optim!.downloadState()) {
      const shape = [...this.store!.get(n).spec.shape];
      out[`optim.m.${n}`] = { shape, data: mv.m };
      out[`optim.v.${n}`] = { shape, data: mv.v };
    }
    out['optim.step'] = { shape: [1], data: new Float32Array([this.optim!.step]) };
    return out;
  }

  loadState(state: StrategyState): void {
    const params = new Map(Object.entries(state).filter(([n]) => n.startsWith('adv.')));
    this.store!.uploadValues(params);
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    for (const p of this.store!.list()) {
      const m = state[`optim.m.${p.spec.name}`], v = state[`optim.v.${p.spec.name}`];
      if (m && v) moments.set(p.spec.name, { m: m.data, v: v.data });
    }
    if (moments.size > 0) this.optim!.uploadState(moments, state['optim.step']?.data[0] ?? 0);
  }

  describe() {
    return { lambda: this.lambda, width: this.width };
  }

  dispose(): void {
    if (this.bufs) for (const t of Object.values(this.bufs)) this.backend!.dispose(t);
    this.bufs = null;
    if (this.norm) this.backend!.dispose(this.norm);
    this.norm = null;
  }
}
