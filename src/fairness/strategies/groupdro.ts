// Online GroupDRO as the reference implementation defines it (Sagawa et al. 2020): per step the group losses
// L_g raise q_g ← q_g·exp(η·L_g) and the batch loss becomes Σ_g q_g·L_g, where a group absent from the batch
// has L_g = 0 and contributes nothing (the loss is not renormalised over the groups present). q lives on the
// device; the update and the per-sample weights it implies are one engine op (groupDroUpdate) between the
// loss forward and the backward (test/fairness/groupdro-reference.test.ts checks 1000 steps against it).
import type { Backend } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { HrLossBuffers } from '../../train/hr-step';
import { UniformSampler } from '../../train/sampling';
import type { Strategy, StrategyContext, StrategyState } from '../../train/strategy';

export class GroupDroStrategy implements Strategy {
  readonly name = 'groupdro';
  private backend: Backend | null = null;
  private q: Tensor | null = null;

  constructor(readonly eta: number) {
    if (!(eta > 0 && Number.isFinite(eta))) throw new Error(`groupdro: eta must be a positive number, got ${eta}`);
  }

  sampler(ctx: StrategyContext) {
    return new UniformSampler(ctx.trainGroupOf.length, ctx.seed);
  }

  setup(ctx: StrategyContext): void {
    this.backend = ctx.backend;
    this.q = ctx.backend.tensor([ctx.groups], new Float32Array(ctx.groups).fill(1 / ctx.groups));
  }

  beforeBackward(bufs: HrLossBuffers): void {
    this.backend!.groupDroUpdate(this.q!, bufs.groupLossSum, bufs.groupCount, this.eta, bufs.group, bufs.w);
  }

  /** The current group weights q (host copy). */
  weights(): Float32Array {
    return this.backend!.download(this.q!);
  }

  /** q comes back with the step's one read. */
  results(): Record<string, Tensor> {
    return { q: this.q! };
  }

  stepLogs(results: ReadonlyMap<string, Float32Array>): Record<string, number> {
    const q = results.get('q') ?? this.weights();
    const out: Record<string, number> = {};
    q.forEach((v, g) => (out[`q${g}`] = v));
    return out;
  }

  state(): StrategyState {
    return { 'groupdro.q': { shape: [...this.q!.shape], data: this.weights() } };
  }

  loadState(state: StrategyState): void {
    const s = state['groupdro.q'];
    if (!s) throw new Error('groupdro: checkpoint has no groupdro.q');
    this.backend!.upload(this.q!, s.data);
  }

  describe() {
    return { eta: this.eta };
  }

  dispose(): void {
    if (this.q) this.backend!.dispose(this.q);
    this.q = null;
  }
}
