// Inverse-frequency weighted sampling: each window drawn with probability ∝ 1/(G·f_g), with replacement (as
// PyTorch's WeightedRandomSampler), so every group fills about 1/G of each batch; the loss stays unweighted.
import { inverseFrequencySampler } from '../../train/sampling';
import type { Strategy, StrategyContext } from '../../train/strategy';

export class InverseFrequencyStrategy implements Strategy {
  readonly name = 'if';
  sampler(ctx: StrategyContext) {
    return inverseFrequencySampler(ctx.trainGroupOf, ctx.groups, ctx.seed);
  }
  setup(): void {}
  state() {
    return {};
  }
  loadState(): void {}
  describe() {
    return {};
  }
  dispose(): void {}
}
