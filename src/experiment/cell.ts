// One cell of the grid: fine-tune one model size from the foundation checkpoint on one source domain with
// one strategy and seed, then evaluate it on every target domain (per-group metrics with bootstrap CIs,
// MMD and silhouette of the embeddings, a 2-D projection). Under k-fold cross-validation the cell trains one
// model per fold; each tests the subjects of its own fold of every target, and the predictions are pooled,
// so every subject is evaluated once, by a model that never trained on it.
import { createHash } from 'crypto';
import * as fs from 'fs';
import type { Backend } from '../engine/backend';
import { evaluateFairness } from '../fairness/metrics/evaluate';
import { evaluateAlarms } from '../fairness/alarms/evaluate';
import { profileForDomain, resolveRule, type AlarmProfileName } from '../fairness/alarms/rules';
import { subjectErrorSums } from '../fairness/metrics/subject-errors';
import { assertNoEmptyGroup, buildGroups, GroupSpec } from '../fairness/groups';
import { makeStrategy } from '../fairness/strategies';
import { loadEncoder } from '../model/checkpoint';
import { modelConfig, ModelSize } from '../model/config';
import { applyFinetuneMode, parseFinetuneMode } from '../model/finetune-mode';
import { PpgGpt } from '../model/ppg-gpt';
import { finetune, type CheckpointOptions, type FinetuneHooks } from '../train/finetune';
import { predict } from '../train/predict';
import { prepareWindows } from '../train/prepared';
import { cellStateFile } from './cell-store';
import { finetuneModes, type ExperimentConfig } from './config';
import type { DomainData } from './data-stage';
import { projectEmbeddings } from './projection';
import type { CellResult, TargetResult } from './results';

export interface CellSpec {
  source: string;
  strategy: string;
  size: ModelSize;
  seed: number;
  /** Fine-tuning mode (full, head, lora, lastN); the experiment's single mode unless it lists several. */
  mode?: string;
}

/** Readable and stable: the same configuration always maps to the same id (so finished cells are skipped). */
export function cellId(c: ExperimentConfig, s: CellSpec): string {
  const relevant = {
    windowSeconds: c.windowSeconds, domains: c.domains, split: c.split, groupBy: c.groupBy, pretrain: c.pretrain,
    finetune: c.finetune,
    strategyParams: s.strategy === 'groupdro' ? c.strategyParams.groupdroEta : s.strategy === 'groupdro-paper' ? c.strategyParams.reweightEta
      : s.strategy === 'adv' ? [c.strategyParams.advLambda, c.strategyParams.advWidth] : null,
    targets: c.targets ?? null, evaluation: c.evaluation,
  };
  const hash = createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 8);
  // With a single mode the id keeps its old form; an axis of modes names each cell's.
  const mode = finetuneModes(c).length > 1 ? `__${s.mode ?? finetuneModes(c)[0]}` : '';
  return `${s.source}__${s.strategy}__${s.size}${mode}__s${s.seed}__${hash}`;
}

export function cellsOf(c: ExperimentConfig): CellSpec[] {
  const out: CellSpec[] = [];
  for (const size of c.sizes) for (const mode of finetuneModes(c)) for (const source of c.sources) for (const strategy of c.strategies) {
    for (const seed of c.seeds) out.push({ source, strategy, size, seed, mode });
  }
  return out;
}

/** One target's predictions from every fold, pooled: each window tested by the fold model that did not train on it. */
interface Pooled {
  pred: number[];
  hr: number[];
  group: number[];
  subject: string[];
  fold: number[];
  /** Each window's recording and start (s), while every fold's test set records window times; else null. */
  times: { record: number[]; start: number[]; seconds: number } | null;
  /** Subject ids in fold order, each fold's in its split's order (the bootstrap's unit numbering). */
  subjectOrder: string[];
  z: Float32Array[];
  pooled: Float32Array[];
  /** Fold 0's pooled embeddings and groups (the 2-D projection shows one model's space). */
  projection?: { pooled: Float32Array; groupOf: Int32Array };
}

interface FoldRun {
  epochs: CellResult['training']['epochs'];
  bestEpoch: number;
  bestValMae: number | null;
  windowsPerSecond: number;
  strategySeconds: number;
  peakRssBytes: number;
}

/** Where a running cell saves its training state, so that a killed cell resumes (see config checkpointEvery). */
export interface CellStateOptions {
  /** runs/<name> */
  runDir: string;
  log?: (s: string) => void;
}

/** Fine-tunes fold f's model and adds its test predictions of every target to `pooled`. */
function runFold(
  c: ExperimentConfig, spec: CellSpec, f: number, domains: Map<string, DomainData>, groupNames: string[], targets: string[],
  checkpoint: string | null, backend: Backend, hooks: FinetuneHooks, pooled: Map<string, Pooled>, state?: CellStateOptions,
): FoldRun & { params: Record<string, number | string> } {
  const gspec: GroupSpec = { attributes: c.groupBy.attributes, bands: c.groupBy.bands, names: groupNames };
  const fold = domains.get(spec.source)!.folds[f];
  const where = domains.get(spec.source)!.folds.length === 1 ? '' : ` (fold ${f})`;
  const trainGroups = buildGroups(fold.train.subjectIndex, fold.train.subjects, gspec);
  assertNoEmptyGroup(trainGroups.counts, groupNames, `${spec.source} train${where}`);
  const valGroups = buildGroups(fold.val.subjectIndex, fold.val.subjects, gspec);
  const train = prepareWindows(fold.train, trainGroups.groupOf);
  const val = prepareWindows(fold.val, valGroups.groupOf);

  const mode = spec.mode ?? finetuneModes(c)[0];
  const lora = mode === 'lora' ? { loraRank: c.finetune.loraRank, loraAlpha: c.finetune.loraAlpha } : {};
  const config = modelConfig(spec.size, { hrPatches: c.windowSeconds, dropout: c.finetune.dropout, ...lora });
  const model = new PpgGpt(backend, config, { next: false, hr: true });
  model.store.initialise(config, spec.seed + 1000);
  if (checkpoint) loadEncoder(model, checkpoint);
  applyFinetuneMode(model.store, config.layers, parseFinetuneMode(mode));
  const strategy = makeStrategy(spec.strategy, c.strategyParams);
  try {
    const ft = c.finetune;
    let ckpt: CheckpointOptions | undefined;
    if (state) {
      const file = cellStateFile(state.runDir, cellId(c, spec), f);
      ckpt = { path: file, every: c.checkpointEvery, resume: fs.existsSync(file) };
      if (ckpt.resume) state.log?.(`cell ${cellId(c, spec)}${where}: resuming from its saved training state`);
    }
    const res = finetune(model, train, val, strategy, groupNames.length, {
      epochs: ft.epochs, batchSize: ft.batchSize, lr: ft.lr, warmupSteps: ft.warmupSteps, weightDecay: ft.weightDecay,
      clipNorm: ft.clipNorm, seed: spec.seed, patience: ft.patience, microBatch: ft.microBatch,
    }, hooks, ckpt);
    for (const target of targets) {
      const test = domains.get(target)!.folds[f].test;
      if (test.hr.length === 0) continue;
      const g = buildGroups(test.subjectIndex, test.subjects, gspec);
      const p = predict(model, prepareWindows(test, g.groupOf), { embeddings: true });
      const acc = pooled.get(target)!;
      if (!test.times) acc.times = null;
      else if (acc.times) {
        for (let i = 0; i < test.hr.length; i++) {
          acc.times.record.push(test.times.record[i]);
          acc.times.start.push(test.times.start[i]);
        }
        acc.times.seconds = test.times.seconds;
      }
      for (let i = 0; i < test.hr.length; i++) {
        acc.pred.push(p.pred[i]);
        acc.hr.push(test.hr[i]);
        acc.group.push(g.groupOf[i]);
        acc.subject.push(test.subjects[test.subjectIndex[i]].id);
        acc.fold.push(f);
      }
      acc.subjectOrder.push(...test.subjects.map((x) => x.id));
      acc.z.push(p.z!);
      acc.pooled.push(p.pooled!);
      if (f === 0) acc.projection = { pooled: p.pooled!, groupOf: g.groupOf };
    }
    return {
      epochs: res.history.map((h) => ({ epoch: h.epoch, trainLoss: h.trainLoss, valMae: h.valMae, trainGroupLoss: h.trainGroupLoss.map((v) => (Number.isFinite(v) ? v : null)) })),
      bestEpoch: res.bestEpoch, bestValMae: res.bestValMae, windowsPerSecond: res.windowsPerSecond, params: strategy.describe(),
      strategySeconds: res.strategySeconds, peakRssBytes: res.peakRssBytes,
    };
  } finally {
    strategy.dispose();
    model.store.dispose();
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The fairness report of one target from its pooled predictions. */
function evaluateTarget(c: ExperimentConfig, spec: CellSpec, target: string, acc: Pooled, groupNames: string[], folds: number): TargetResult {
  const config = modelConfig(spec.size, { hrPatches: c.windowSeconds });
  const S = c.windowSeconds + 1;
  const n = acc.pred.length;
  if (n === 0) throw new Error(`target ${target}: no windows in its test split`);
  const groupOf = Int32Array.from(acc.group);
  const subjectIds = acc.subjectOrder;
  const indexOf = new Map(subjectIds.map((id, k) => [id, k]));
  const subjectIndex = Int32Array.from(acc.subject, (id) => indexOf.get(id)!);
  // A target need not hold every group (small cohorts, intersections): evaluate the groups it has.
  const counts = groupNames.map((_, k) => groupOf.reduce((a, g) => a + (g === k ? 1 : 0), 0));
  const present = groupNames.map((_, k) => k).filter((k) => counts[k] > 0);
  const remap = new Int32Array(groupNames.length).fill(-1);
  present.forEach((k, j) => (remap[k] = j));
  const pred = Float32Array.from(acc.pred), hr = Float32Array.from(acc.hr);
  const metrics = evaluateFairness({
    pred, hr, groupOf: groupOf.map((k) => remap[k]), groupNames: present.map((k) => groupNames[k]), subjectIndex,
    embeddings: { z: { data: concat(acc.z), dim: S * config.dim }, pooled: { data: concat(acc.pooled), dim: config.dim } },
    foldOf: folds > 1 ? Int32Array.from(acc.fold) : undefined,
    seed: spec.seed,
    bootstrap: { resamples: c.evaluation.bootstrap },
    mmd: { permutations: c.evaluation.mmdPermutations, maxPerGroup: c.evaluation.maxEmbeddingRows, estimator: c.evaluation.mmdEstimator },
    silhouette: { maxSamples: 2 * c.evaluation.maxEmbeddingRows },
  });
  const projection = c.evaluation.projection && acc.projection
    ? projectEmbeddings(acc.projection.pooled, config.dim, acc.projection.groupOf, { name: 'pooled', maxPerGroup: Math.min(150, c.evaluation.maxEmbeddingRows), seed: spec.seed })
    : undefined;
  const subjectErrors = subjectErrorSums(pred, hr, groupOf, subjectIndex, subjectIds, groupNames);
  const min = c.evaluation.minSubjectsPerGroup;
  const fewSubjects = metrics.perGroup.filter((g) => g.subjects < min).map((g) => g.group);
  const alarms = evaluateTargetAlarms(c, spec, target, acc, groupOf, subjectIndex, groupNames);
  return { target, metrics, projection, subjectErrors, ...(alarms ? { alarms } : {}), evaluation: { folds, minSubjectsPerGroup: min, fewSubjects } };
}

/** Alarm fairness of a target under its device profile; null when disabled or the windows carry no times. */
function evaluateTargetAlarms(
  c: ExperimentConfig, spec: CellSpec, target: string, acc: Pooled, groupOf: Int32Array, subjectIndex: Int32Array, groupNames: string[],
): TargetResult['alarms'] | null {
  const { enabled, profile, ...overrides } = c.evaluation.alarms;
  if (!enabled || !acc.times) return null;
  const name = (profile === 'auto' ? profileForDomain(target) : profile) as AlarmProfileName;
  const report = evaluateAlarms({
    pred: acc.pred, hr: acc.hr, groupOf, groupNames, subjectIndex,
    record: acc.times.record, start: acc.times.start, windowSeconds: acc.times.seconds,
    rule: resolveRule(name, overrides), seed: spec.seed, resamples: c.evaluation.bootstrap,
  });
  return { profile: name, ...report };
}

export function runCell(
  c: ExperimentConfig, spec: CellSpec, domains: Map<string, DomainData>, groupNames: string[], targets: string[],
  checkpoint: string | null, backend: Backend, hooks: FinetuneHooks = {}, state?: CellStateOptions,
): CellResult {
  const t0 = Date.now();
  const folds = domains.get(spec.source)!.folds.length;
  const pooled = new Map<string, Pooled>(targets.map((t) => [t, { pred: [], hr: [], group: [], subject: [], fold: [], times: { record: [], start: [], seconds: 0 }, subjectOrder: [], z: [], pooled: [] }]));
  const runs: (FoldRun & { params: Record<string, number | string> })[] = [];
  for (let f = 0; f < folds; f++) runs.push(runFold(c, spec, f, domains, groupNames, targets, checkpoint, backend, hooks, pooled, state));
  const results = targets.map((t) => evaluateTarget(c, spec, t, pooled.get(t)!, groupNames, folds));
  const vals = runs.map((r) => r.bestValMae).filter((v): v is number => v !== null);
  return {
    id: cellId(c, spec), source: spec.source, strategy: spec.strategy, size: spec.size, seed: spec.seed, mode: spec.mode ?? finetuneModes(c)[0],
    params: runs[0].params, groupNames,
    training: {
      // The curves are fold 0's; the best validation MAE is the mean over the folds.
      epochs: runs[0].epochs, bestEpoch: runs[0].bestEpoch,
      bestValMae: vals.length === 0 ? null : vals.reduce((a, b) => a + b, 0) / vals.length,
      windowsPerSecond: runs.reduce((a, r) => a + r.windowsPerSecond, 0) / runs.length, seconds: (Date.now() - t0) / 1000,
      strategySeconds: runs.reduce((a, r) => a + r.strategySeconds, 0),
      peakRssMiB: Math.max(...runs.map((r) => r.peakRssBytes)) / 2 ** 20,
      ...(folds > 1 ? { folds: runs.map((r, f) => ({ fold: f, bestEpoch: r.bestEpoch, bestValMae: r.bestValMae })) } : {}),
    },
    targets: results,
    finished: new Date().toISOString(),
  };
}
