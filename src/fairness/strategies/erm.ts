// ERM ("unbalanced"): uniform sampling, uniform weights — the baseline every mitigation is compared with.
import { UniformSampler } from '../../train/sampling';
import type { Strategy, StrategyContext } from '../../train/strategy';

export class ErmStrategy implements Strategy {
  readonly name = 'erm';
  sampler(ctx: StrategyContext) {
    return new UniformSampler(ctx.trainGroupOf.length, ctx.seed);
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
