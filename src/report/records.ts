// Flat records drawn from ExperimentResults, the data tables every chart and table reads. Charts leave the
// averaging over seeds to vega-lite's aggregate transforms, so the records keep one row per seed.
import { modelConfig, type ModelSize } from '../model/config';
import { countParams, paramSpecs } from '../model/params';
import type { ExperimentResults } from '../experiment/results';
import { armsOf, groupOrder, type Arms } from './arms';

/** "source → target", the label of one transfer. */
export function pairLabel(source: string, target: string): string {
  return `${source} → ${target}`;
}

export interface TargetRecord {
  cell: string;
  source: string;
  target: string;
  pair: string;
  arm: string;
  strategy: string;
  seed: number;
  size: string;
  /** Parameters of the fine-tuned model (the scaling charts' x). */
  parameters: number;
  mae: number;
  maeLo: number;
  maeHi: number;
  gap: number;
  gapLo: number;
  gapHi: number;
  worstGroup: string;
  worstMae: number;
}

export interface GroupRecord {
  cell: string;
  pair: string;
  arm: string;
  seed: number;
  group: string;
  mae: number;
  lo: number;
  hi: number;
}

export interface EmbeddingRecord {
  pair: string;
  arm: string;
  strategy: string;
  size: string;
  parameters: number;
  seed: number;
  embedding: string;
  mmd2: number;
  /** Which MMD² estimator gave mmd2 (results from before the choice existed used the unbiased one). */
  mmdEstimator: 'unbiased' | 'biased';
  pValue: number;
  silhouette: number;
}

export interface EpochRecord {
  cell: string;
  source: string;
  arm: string;
  seed: number;
  epoch: number;
  trainLoss: number;
  valMae: number | null;
}

export interface GroupEpochRecord {
  cell: string;
  source: string;
  arm: string;
  seed: number;
  epoch: number;
  group: string;
  loss: number;
}

export interface ReportRecords {
  arms: Arms;
  /** Group names in display order. */
  groupNames: string[];
  targets: TargetRecord[];
  groups: GroupRecord[];
  embeddings: EmbeddingRecord[];
  epochs: EpochRecord[];
  groupEpochs: GroupEpochRecord[];
}

export function reportRecords(results: ExperimentResults): ReportRecords {
  const arms = armsOf(results);
  const out: ReportRecords = { arms, groupNames: groupOrder(results), targets: [], groups: [], embeddings: [], epochs: [], groupEpochs: [] };
  const windowSeconds = Number((results.config as { windowSeconds?: number }).windowSeconds ?? 10);
  const paramsOf = new Map<string, number>();
  const parameters = (size: string): number => {
    if (!paramsOf.has(size)) {
      let n = NaN;
      try {
        n = countParams(paramSpecs(modelConfig(size as ModelSize, { hrPatches: windowSeconds }), { next: false, hr: true }));
      } catch {
        // A size this build does not know (results from elsewhere): no x for the scaling charts.
      }
      paramsOf.set(size, n);
    }
    return paramsOf.get(size)!;
  };
  for (const c of results.cells) {
    const arm = arms.labelOf(c);
    for (const t of c.targets) {
      const m = t.metrics;
      const pair = pairLabel(c.source, t.target);
      out.targets.push({
        cell: c.id, source: c.source, target: t.target, pair, arm, strategy: c.strategy, seed: c.seed, size: c.size, parameters: parameters(c.size),
        mae: m.mae.estimate, maeLo: m.mae.lo, maeHi: m.mae.hi,
        gap: m.gap.estimate, gapLo: m.gap.lo, gapHi: m.gap.hi,
        worstGroup: m.worstGroup.group, worstMae: m.worstGroup.estimate,
      });
      for (const g of m.perGroup) {
        out.groups.push({ cell: c.id, pair, arm, seed: c.seed, group: g.group, mae: g.mae.estimate, lo: g.mae.lo, hi: g.mae.hi });
      }
      for (const [name, e] of Object.entries(m.embeddings)) {
        out.embeddings.push({ pair, arm, strategy: c.strategy, size: c.size, parameters: parameters(c.size), seed: c.seed, embedding: name, mmd2: e.mmd.mmd2, mmdEstimator: e.mmd.estimator ?? 'unbiased', pValue: e.mmd.pValue, silhouette: e.silhouette.score });
      }
    }
    for (const e of c.training.epochs) {
      out.epochs.push({ cell: c.id, source: c.source, arm, seed: c.seed, epoch: e.epoch, trainLoss: e.trainLoss, valMae: e.valMae });
      e.trainGroupLoss.forEach((loss, g) => {
        // NaN (null after JSON) marks a group with no training windows that epoch: no point to draw.
        if (typeof loss === 'number' && Number.isFinite(loss)) {
          out.groupEpochs.push({ cell: c.id, source: c.source, arm, seed: c.seed, epoch: e.epoch, group: c.groupNames[g], loss });
        }
      });
    }
  }
  return out;
}
