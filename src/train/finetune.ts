// The HR fine-tuning loop: epochs of batches drawn by the strategy's sampler, one device step per batch,
// validation MAE after every epoch, early stopping that keeps the best weights, and a progress bar.
import type { Strategy } from '../fairness/strategies/strategy';
import { toBatches } from '../fairness/sampling';
import { mae } from '../fairness/metrics/errors';
import type { PpgGpt } from '../model/ppg-gpt';
import { AdamW, AdamWConfig, DEFAULT_ADAMW } from './adamw';
import { HrStep } from './hr-step';
import { predict } from './predict';
import { gatherBatch, PreparedSet } from './prepared';
import { learningRate } from './schedule';

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
}

export const DEFAULT_FINETUNE: FinetuneConfig = {
  epochs: 10, batchSize: 32, lr: 1e-3, warmupSteps: 10, weightDecay: 0.01, clipNorm: 1, seed: 0, patience: 0,
};

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
}

export interface FinetuneHooks {
  onStep?(done: number, total: number, info: Record<string, number>): void;
  onEpoch?(rec: EpochRecord): void;
}

export function finetune(
  model: PpgGpt, train: PreparedSet, val: PreparedSet | null, strategy: Strategy, groups: number,
  cfg: FinetuneConfig, hooks: FinetuneHooks = {},
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
  const step = new HrStep(model, B, groups);
  const batch = { x: new Float32Array(B * train.length), hr: new Float32Array(B), group: new Float32Array(B) };
  const history: EpochRecord[] = [];
  let best: { epoch: number; mae: number; values: Map<string, Float32Array> } | null = null;
  let since = 0, windows = 0;
  const t0 = Date.now();
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    const te = Date.now();
    const order = sampler.epochOrder(epoch);
    let lossSum = 0;
    const gSum = new Float64Array(groups), gCnt = new Float64Array(groups);
    let logs: Record<string, number> = {};
    const batches = toBatches(order, B, true);
    for (const idx of batches) {
      gatherBatch(train, idx, batch);
      const lr = learningRate(optim.step, { lr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps, minFactor: 0.1 });
      const r = step.run(batch, optim, { lr, seed: cfg.seed, hooks: strategy });
      lossSum += r.loss;
      for (let g = 0; g < groups; g++) {
        gSum[g] += r.groupLossSum[g];
        gCnt[g] += r.groupCount[g];
      }
      logs = r.logs;
      windows += B;
      hooks.onStep?.(optim.step, totalSteps, { loss: r.loss, ...r.logs });
    }
    const valMae = val ? mae(predict(model, val).pred, val.hr) : null;
    const rec: EpochRecord = {
      epoch, steps: batches.length, trainLoss: lossSum / Math.max(1, batches.length),
      trainGroupLoss: Array.from(gSum, (s, g) => (gCnt[g] > 0 ? s / gCnt[g] : NaN)),
      valMae, seconds: (Date.now() - te) / 1000, logs,
    };
    history.push(rec);
    hooks.onEpoch?.(rec);
    if (valMae !== null) {
      if (!best || valMae < best.mae) {
        best = { epoch, mae: valMae, values: model.store.downloadValues() };
        since = 0;
      } else if (cfg.patience > 0 && ++since >= cfg.patience) {
        break;
      }
    }
  }
  if (best) {
    const m = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [n, d] of best.values) m.set(n, { shape: model.store.get(n).spec.shape, data: d });
    model.store.uploadValues(m);
  }
  const secs = (Date.now() - t0) / 1000;
  return {
    history,
    bestEpoch: best ? best.epoch : history.length - 1,
    bestValMae: best ? best.mae : null,
    windowsPerSecond: secs > 0 ? windows / secs : 0,
  };
}
