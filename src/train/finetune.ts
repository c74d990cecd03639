// The HR fine-tuning loop: epochs of batches drawn by the strategy's sampler, one device step per batch,
// validation MAE after every epoch, early stopping that keeps the best weights, periodic resumable state.
import type { Strategy } from './strategy';
import { toBatches } from './sampling';
import { mae } from './mae';
import type { PpgGpt } from '../model/ppg-gpt';
import { AdamW, AdamWConfig, DEFAULT_ADAMW } from './adamw';
import { HrStep, type StepHooks } from './hr-step';
import { predict } from './predict';
import { gatherBatch, PreparedSet } from './prepared';
import { learningRate } from './schedule';
import { loadTrainState, saveTrainState, TrainState, withPrefix } from './train-state';

export interface FinetuneConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  clipNorm: number;
  seed: number;
  /** Stop after this many epochs without a better validation MAE (0: never stop early). */
  patience: number;
  /**
   * Windows per forward/backward pass (default: the whole batch). Smaller micro-batches accumulate
   * gradients so large models fit in memory; batchSize must be a multiple. Strategies act per micro-batch
   * (GroupDRO updates q and ADV its adversary on each), an approximation of their per-batch update.
   */
  microBatch?: number;
}

export interface EpochRecord {
  epoch: number;
  steps: number;
  trainLoss: number;
  /** Mean training loss per group over the epoch (NaN where a group was never drawn). */
  trainGroupLoss: number[];
  valMae: number | null;
  seconds: number;
  logs: Record<string, number>;
}

export interface FinetuneResult {
  history: EpochRecord[];
  bestEpoch: number;
  bestValMae: number | null;
  windowsPerSecond: number;
  /** Seconds spent in the strategy's own work this run: its step hooks (ADV's adversary, GroupDRO's update) and its sampler. */
  strategySeconds: number;
  /** The process's largest resident set seen between steps, bytes. */
  peakRssBytes: number;
}

/** The strategy's hooks and sampler, each call's time added to `clock.seconds` (the cost of the strategy). */
function timedStrategy(strategy: Strategy, clock: { seconds: number }): { hooks: StepHooks; time: <T>(f: () => T) => T } {
  const time = <T>(f: () => T): T => {
    const t = process.hrtime.bigint();
    try {
      return f();
    } finally {
      clock.seconds += Number(process.hrtime.bigint() - t) / 1e9;
    }
  };
  const hooks: StepHooks = {};
  if (strategy.onBatch) hooks.onBatch = (b) => time(() => strategy.onBatch!(b));
  if (strategy.beforeBackward) hooks.beforeBackward = (b) => time(() => strategy.beforeBackward!(b));
  if (strategy.encoderGradient) hooks.encoderGradient = (a, b, d, drop) => time(() => strategy.encoderGradient!(a, b, d, drop));
  if (strategy.afterUpdate) hooks.afterUpdate = (lr) => time(() => strategy.afterUpdate!(lr));
  if (strategy.results) hooks.results = () => strategy.results!();
  if (strategy.stepLogs) hooks.stepLogs = (r) => strategy.stepLogs!(r);
  return { hooks, time };
}

export interface FinetuneHooks {
  onStep?(done: number, total: number, info: Record<string, number>): void;
  onEpoch?(rec: EpochRecord): void;
}

export interface CheckpointOptions {
  /** Training-state file (safetensors). */
  path: string;
  /** Save every this many optimiser steps (and at every epoch end). */
  every: number;
  /** Continue from the state in `path`. */
  resume: boolean;
}

/** Everything the loop needs to continue after an interruption, apart from the arrays. */
interface LoopPosition {
  epoch: number;
  batch: number;
  step: number;
  lossSum: number;
  gSum: number[];
  gCnt: number[];
  history: EpochRecord[];
  best: { epoch: number; mae: number } | null;
  since: number;
  windows: number;
  epochStart: number;
}

export function finetune(
  model: PpgGpt, train: PreparedSet, val: PreparedSet | null, strategy: Strategy, groups: number,
  cfg: FinetuneConfig, hooks: FinetuneHooks = {}, ckpt?: CheckpointOptions,
): FinetuneResult {
  const be = model.backend;
  const B = Math.min(cfg.batchSize, train.n);
  const ctx = { backend: be, model, groups, trainGroupOf: train.groupOf, seed: cfg.seed };
  strategy.setup(ctx);
  const sampler = strategy.sampler(ctx);
  const stepsPerEpoch = Math.floor(sampler.samplesPerEpoch / B);
  const totalSteps = stepsPerEpoch * cfg.epochs;
  const adam: AdamWConfig = { ...DEFAULT_ADAMW, lr: cfg.lr, weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm };
  const optim = new AdamW(be, model.store, adam);
  const MB = Math.min(cfg.microBatch ?? B, B);
  if (!Number.isInteger(MB) || MB < 1 || B % MB !== 0) throw new Error(`finetune: batch size ${B} is not a multiple of the micro-batch ${cfg.microBatch}`);
  const micro = B / MB;
  const step = new HrStep(model, MB, groups);
  const batch = { x: new Float32Array(MB * train.length), hr: new Float32Array(MB), group: new Float32Array(MB) };
  const stateConfig = { cfg, strategy: strategy.name, params: strategy.describe(), n: train.n, groups };
  let bestValues: Map<string, Float32Array> | null = null;
  let pos: LoopPosition = {
    epoch: 0, batch: 0, step: 0, lossSum: 0, gSum: new Array(groups).fill(0), gCnt: new Array(groups).fill(0),
    history: [], best: null, since: 0, windows: 0, epochStart: Date.now(),
  };
  if (ckpt?.resume) {
    const s = loadTrainState(ckpt.path, stateConfig);
    pos = { ...(s.loop as unknown as LoopPosition), epochStart: Date.now() };
    model.store.uploadValues(withPrefix(s.arrays, 'param'));
    const m = withPrefix(s.arrays, 'adam.m'), v = withPrefix(s.arrays, 'adam.v');
    optim.uploadState(new Map([...m].map(([n, a]) => [n, { m: a.data, v: v.get(n)!.data }])), pos.step);
    const strat: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [n, a] of withPrefix(s.arrays, 'strategy')) strat[n] = a;
    strategy.loadState(strat);
    const best = withPrefix(s.arrays, 'best');
    bestValues = best.size > 0 ? new Map([...best].map(([n, a]) => [n, a.data])) : null;
  }
  const save = () => {
    if (!ckpt) return;
    const arrays: TrainState['arrays'] = new Map();
    for (const p of model.store.list()) arrays.set(`param.${p.spec.name}`, { shape: [...p.spec.shape], data: be.download(p.value) });
    for (const [n, mv] of optim.downloadState()) {
      const shape = [...model.store.get(n).spec.shape];
      arrays.set(`adam.m.${n}`, { shape, data: mv.m });
      arrays.set(`adam.v.${n}`, { shape, data: mv.v });
    }
    for (const [n, a] of Object.entries(strategy.state())) arrays.set(`strategy.${n}`, a);
    if (bestValues) for (const [n, d] of bestValues) arrays.set(`best.${n}`, { shape: [...model.store.get(n).spec.shape], data: d });
    saveTrainState(ckpt.path, { loop: { ...pos, epochStart: 0 } as unknown as Record<string, unknown>, arrays }, stateConfig);
  };
  const t0 = Date.now();
  const clock = { seconds: 0 };
  const timed = timedStrategy(strategy, clock);
  let peakRss = process.memoryUsage().rss;
  let windowsThisRun = 0;
  let stopped = false;
  while (pos.epoch < cfg.epochs && !stopped) {
    const batches = toBatches(timed.time(() => sampler.epochOrder(pos.epoch)), B, true);
    let logs: Record<string, number> = {};
    for (; pos.batch < batches.length; pos.batch++) {
      const lr = learningRate(optim.step, { lr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps, minFactor: 0.1 });
      let r: ReturnType<HrStep['run']> | null = null;
      let stepLoss = 0;
      for (let k = 0; k < micro; k++) {
        gatherBatch(train, batches[pos.batch].subarray(k * MB, (k + 1) * MB), batch);
        r = step.run(batch, optim, { lr, seed: cfg.seed, hooks: timed.hooks, micro: { index: k, count: micro } });
        stepLoss += r.loss / micro;
        for (let g = 0; g < groups; g++) {
          pos.gSum[g] += r.groupLossSum[g];
          pos.gCnt[g] += r.groupCount[g];
        }
      }
      pos.step = optim.step;
      pos.lossSum += stepLoss;
      logs = r!.logs;
      pos.windows += B;
      windowsThisRun += B;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      hooks.onStep?.(optim.step, totalSteps, { loss: stepLoss, ...logs });
      if (ckpt && optim.step % ckpt.every === 0 && pos.batch + 1 < batches.length) {
        pos.batch++;
        save();
        pos.batch--;
      }
    }
    const valMae = val ? mae(predict(model, val).pred, val.hr) : null;
    const rec: EpochRecord = {
      epoch: pos.epoch, steps: batches.length, trainLoss: pos.lossSum / Math.max(1, batches.length),
      trainGroupLoss: pos.gSum.map((s, g) => (pos.gCnt[g] > 0 ? s / pos.gCnt[g] : NaN)),
      valMae, seconds: (Date.now() - pos.epochStart) / 1000, logs,
    };
    pos.history.push(rec);
    hooks.onEpoch?.(rec);
    if (valMae !== null) {
      if (!pos.best || valMae < pos.best.mae) {
        pos.best = { epoch: pos.epoch, mae: valMae };
        bestValues = model.store.downloadValues();
        pos.since = 0;
      } else if (cfg.patience > 0 && ++pos.since >= cfg.patience) {
        stopped = true;
      }
    }
    pos = { ...pos, epoch: pos.epoch + 1, batch: 0, lossSum: 0, gSum: pos.gSum.map(() => 0), gCnt: pos.gCnt.map(() => 0), epochStart: Date.now() };
    if (stopped) pos.epoch = cfg.epochs;
    save();
  }
  if (bestValues) {
    const m = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [n, d] of bestValues) m.set(n, { shape: model.store.get(n).spec.shape, data: d });
    model.store.uploadValues(m);
  }
  const secs = (Date.now() - t0) / 1000;
  return {
    history: pos.history,
    bestEpoch: pos.best ? pos.best.epoch : pos.history.length - 1,
    bestValMae: pos.best ? pos.best.mae : null,
    windowsPerSecond: secs > 0 ? windowsThisRun / secs : 0,
    strategySeconds: clock.seconds,
    peakRssBytes: peakRss,
  };
}
