// A bias-mitigation strategy is one small module behind this interface: how batches are drawn (sampler),
// what happens on the device inside a step (hooks: per-sample weights, extra losses), and what state it
// keeps (checkpointed with the model). A fifth strategy is one new file plus a line in index.ts.
import type { Backend } from '../engine/backend';
import type { PpgGpt } from '../model/ppg-gpt';
import type { StepHooks } from './hr-step';
import type { EpochSampler } from './sampling';

export interface StrategyContext {
  backend: Backend;
  model: PpgGpt;
  /** Number of groups G. */
  groups: number;
  /** Group id of every training window. */
  trainGroupOf: Int32Array;
  seed: number;
}

export interface StrategyState {
  [name: string]: { shape: number[]; data: Float32Array };
}

export interface Strategy extends StepHooks {
  readonly name: string;
  /** The order in which training windows are visited in each epoch. */
  sampler(ctx: StrategyContext): EpochSampler;
  /** Allocates device state; called once before training. */
  setup(ctx: StrategyContext): void;
  /** Device state as host arrays (checkpoints). */
  state(): StrategyState;
  loadState(state: StrategyState): void;
  /** Hyper-parameters, for run records. */
  describe(): Record<string, number | string>;
  dispose(): void;
}
