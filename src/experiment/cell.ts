// One cell of the grid: fine-tune one model size from the foundation checkpoint on one source domain with
// one strategy and seed, then evaluate it on every target domain (per-group metrics with bootstrap CIs,
// MMD and silhouette of the embeddings, a 2-D projection).
import { createHash } from 'crypto';
import type { Backend } from '../engine/backend';
import { evaluateFairness } from '../fairness/metrics/evaluate';
import { subjectErrorSums } from '../fairness/metrics/subject-errors';
import { assertNoEmptyGroup, buildGroups, GroupSpec } from '../fairness/groups';
import { makeStrategy } from '../fairness/strategies';
import { loadEncoder } from '../model/checkpoint';
import { modelConfig, ModelSize } from '../model/config';
import { applyFinetuneMode, parseFinetuneMode } from '../model/finetune-mode';
import { PpgGpt } from '../model/ppg-gpt';
import { finetune, FinetuneHooks } from '../train/finetune';
import { predict } from '../train/predict';
import { prepareWindows } from '../train/prepared';
import type { ExperimentConfig } from './config';
import type { DomainData } from './data-stage';
import { projectEmbeddings } from './projection';
import type { CellResult, TargetResult } from './results';

export interface CellSpec {
  source: string;
  strategy: string;
  size: ModelSize;
  seed: number;
}

/** Readable and stable: the same configuration always maps to the same id (so finished cells are skipped). */
export function cellId(c: ExperimentConfig, s: CellSpec): string {
  const relevant = {
    windowSeconds: c.windowSeconds, domains: c.domains, split: c.split, groupBy: c.groupBy, pretrain: c.pretrain,
    finetune: c.finetune, strategyParams: s.strategy === 'groupdro' ? c.strategyParams.groupdroEta : s.strategy === 'adv' ? [c.strategyParams.advLambda, c.strategyParams.advWidth] : null,
    targets: c.targets ?? null, evaluation: c.evaluation,
  };
  const hash = createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 8);
  return `${s.source}__${s.strategy}__${s.size}__s${s.seed}__${hash}`;
}

export function cellsOf(c: ExperimentConfig): CellSpec[] {
  const out: CellSpec[] = [];
  for (const size of c.sizes) for (const source of c.sources) for (const strategy of c.strategies) for (const seed of c.seeds) {
    out.push({ source, strategy, size, seed });
  }
  return out;
}

export function runCell(
  c: ExperimentConfig, spec: CellSpec, domains: Map<string, DomainData>, groupNames: string[], targets: string[],
  checkpoint: string | null, backend: Backend, hooks: FinetuneHooks = {},
): CellResult {
  const t0 = Date.now();
  const gspec: GroupSpec = { attributes: c.groupBy.attributes, bands: c.groupBy.bands, names: groupNames };
  const src = domains.get(spec.source)!;
  const trainGroups = buildGroups(src.train.subjectIndex, src.train.subjects, gspec);
  assertNoEmptyGroup(trainGroups.counts, groupNames, `${spec.source} train`);
  const valGroups = buildGroups(src.val.subjectIndex, src.val.subjects, gspec);
  const train = prepareWindows(src.train, trainGroups.groupOf);
  const val = prepareWindows(src.val, valGroups.groupOf);

  const lora = c.finetune.mode === 'lora' ? { loraRank: c.finetune.loraRank, loraAlpha: c.finetune.loraAlpha } : {};
  const config = modelConfig(spec.size, { hrPatches: c.windowSeconds, dropout: c.finetune.dropout, ...lora });
  const model = new PpgGpt(backend, config, { next: false, hr: true });
  model.store.initialise(config, spec.seed + 1000);
  if (checkpoint) loadEncoder(model, checkpoint);
  applyFinetuneMode(model.store, config.layers, parseFinetuneMode(c.finetune.mode));
  const strategy = makeStrategy(spec.strategy, c.strategyParams);
  try {
    const f = c.finetune;
    const res = finetune(model, train, val, strategy, groupNames.length, {
      epochs: f.epochs, batchSize: f.batchSize, lr: f.lr, warmupSteps: f.warmupSteps, weightDecay: f.weightDecay,
      clipNorm: f.clipNorm, seed: spec.seed, patience: f.patience, microBatch: f.microBatch,
    }, hooks);
    const results: TargetResult[] = [];
    for (const target of targets) {
      const test = domains.get(target)!.test;
      const g = buildGroups(test.subjectIndex, test.subjects, gspec);
      const set = prepareWindows(test, g.groupOf);
      const p = predict(model, set, { embeddings: true });
      const S = c.windowSeconds + 1;
      // A target need not hold every group (small cohorts, intersections): evaluate the groups it has.
      const present = groupNames.map((_, k) => k).filter((k) => g.counts[k] > 0);
      if (present.length === 0) throw new Error(`target ${target}: no windows in its test split`);
      const remap = new Int32Array(groupNames.length).fill(-1);
      present.forEach((k, j) => (remap[k] = j));
      const groupOf = g.groupOf.map((k) => remap[k]);
      const metrics = evaluateFairness({
        pred: p.pred, hr: set.hr, groupOf, groupNames: present.map((k) => groupNames[k]), subjectIndex: set.subjectIndex,
        embeddings: { z: { data: p.z!, dim: S * config.dim }, pooled: { data: p.pooled!, dim: config.dim } },
        seed: spec.seed,
        bootstrap: { resamples: c.evaluation.bootstrap },
        mmd: { permutations: c.evaluation.mmdPermutations, maxPerGroup: c.evaluation.maxEmbeddingRows },
        silhouette: { maxSamples: 2 * c.evaluation.maxEmbeddingRows },
      });
      const projection = c.evaluation.projection
        ? projectEmbeddings(p.pooled!, config.dim, g.groupOf, { name: 'pooled', maxPerGroup: Math.min(150, c.evaluation.maxEmbeddingRows), seed: spec.seed })
        : undefined;
      const subjectErrors = subjectErrorSums(p.pred, set.hr, g.groupOf, set.subjectIndex, test.subjects.map((s) => s.id), groupNames);
      results.push({ target, metrics, projection, subjectErrors });
    }
    return {
      id: cellId(c, spec), source: spec.source, strategy: spec.strategy, size: spec.size, seed: spec.seed,
      params: strategy.describe(), groupNames,
      training: {
        epochs: res.history.map((h) => ({ epoch: h.epoch, trainLoss: h.trainLoss, valMae: h.valMae, trainGroupLoss: h.trainGroupLoss.map((v) => (Number.isFinite(v) ? v : null)) })),
        bestEpoch: res.bestEpoch, bestValMae: res.bestValMae, windowsPerSecond: res.windowsPerSecond, seconds: (Date.now() - t0) / 1000,
      },
      targets: results,
      finished: new Date().toISOString(),
    };
  } finally {
    strategy.dispose();
    for (const p of model.store.list()) {
      backend.dispose(p.value);
      backend.dispose(p.grad);
    }
  }
}
