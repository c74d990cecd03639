// The FairTune paper's variant of GroupDRO ('groupdro-paper'), beside Sagawa et al.'s online GroupDRO
// ('groupdro', groupdro.ts): per batch the present groups' mean losses are normalised, L̂_g = L_g / Σ L, each
// group's weight is gw_g = 1 + η·L̂_g, and the loss is the gw-weighted mean over the batch (engine op
// groupLossReweight, on the device between the loss forward and the backward). Sampling is shifted toward
// the high-loss groups as well: each epoch draws groups with probability ∝ gw_g as the epoch starts (gw = 1
// before any batch: every group equally often, as IF does). Where Sagawa's q compounds every batch's loss
// (q ← q·e^{ηL}), gw follows the latest batch and stays within [1, 1 + η].
import type { Backend } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { HrLossBuffers } from '../../train/hr-step';
import { groupCounts, WeightedSampler, type EpochSampler } from '../../train/sampling';
import type { Strategy, StrategyContext, StrategyState } from '../../train/strategy';

export class PaperGroupDroStrategy implements Strategy {
  readonly name = 'groupdro-paper';
  private backend: Backend | null = null;
  private gw: Tensor | null = null;
  /** The group weights an epoch's sampling used, so that a resumed epoch draws the same windows. */
  private sampledWith: { epoch: number; gw: Float32Array } | null = null;

  constructor(readonly eta: number) {
    if (!(eta > 0 && Number.isFinite(eta))) throw new Error(`groupdro-paper: eta must be a positive number, got ${eta}`);
  }

  sampler(ctx: StrategyContext): EpochSampler {
    const counts = groupCounts(ctx.trainGroupOf, ctx.groups);
    const n = ctx.trainGroupOf.length;
    return {
      samplesPerEpoch: n,
      epochOrder: (epoch: number) => {
        if (this.sampledWith?.epoch !== epoch) this.sampledWith = { epoch, gw: this.weights() };
        const gw = this.sampledWith.gw;
        // Window weight gw_g / n_g: group g is drawn with probability ∝ gw_g whatever its size.
        const weights = Float64Array.from(ctx.trainGroupOf, (g) => gw[g] / counts[g]);
        return new WeightedSampler(weights, ctx.seed, n).epochOrder(epoch);
      },
    };
  }

  setup(ctx: StrategyContext): void {
    this.backend = ctx.backend;
    this.gw = ctx.backend.tensor([ctx.groups], new Float32Array(ctx.groups).fill(1));
  }

  beforeBackward(bufs: HrLossBuffers): void {
    this.backend!.groupLossReweight(bufs.groupLossSum, bufs.groupCount, this.eta, bufs.group, this.gw!, bufs.w);
  }

  /** The current group weights gw (host copy). */
  weights(): Float32Array {
    return this.backend!.download(this.gw!);
  }

  /** gw comes back with the step's one read. */
  results(): Record<string, Tensor> {
    return { gw: this.gw! };
  }

  stepLogs(results: ReadonlyMap<string, Float32Array>): Record<string, number> {
    const out: Record<string, number> = {};
    (results.get('gw') ?? this.weights()).forEach((v, g) => (out[`gw${g}`] = v));
    return out;
  }

  state(): StrategyState {
    const out: StrategyState = { 'groupdro-paper.gw': { shape: [...this.gw!.shape], data: this.weights() } };
    if (this.sampledWith) {
      const s = this.sampledWith;
      out['groupdro-paper.sampled-gw'] = { shape: [s.gw.length], data: s.gw };
      out['groupdro-paper.sampled-epoch'] = { shape: [1], data: new Float32Array([s.epoch]) };
    }
    return out;
  }

  loadState(state: StrategyState): void {
    const s = state['groupdro-paper.gw'];
    if (!s) throw new Error('groupdro-paper: checkpoint has no groupdro-paper.gw');
    this.backend!.upload(this.gw!, s.data);
    const g = state['groupdro-paper.sampled-gw'], e = state['groupdro-paper.sampled-epoch'];
    this.sampledWith = g && e ? { epoch: e.data[0], gw: g.data } : null;
  }

  describe() {
    return { eta: this.eta };
  }

  dispose(): void {
    if (this.gw) this.backend!.dispose(this.gw);
    this.gw = null;
  }
}
