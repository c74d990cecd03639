// Every metric as one CSV: a row per cell × target × (overall | group). Overall rows carry the whole-target
// metrics (MAE, RMSE, gap, worst group, and per embedding MMD², its p-value and the silhouette score);
// group rows carry that group's windows, subjects, MAE and, per embedding, the group's mean silhouette.
// Columns a row kind does not have are empty. Seeds are separate rows; nothing is averaged here.
import type { ExperimentResults } from '../experiment/results';
import { toCsv, type CsvValue } from './csv';
import { checkResults } from './validate';

// few_subjects: the group (or, on overall rows, some group) has fewer evaluated subjects than
// evaluation.minSubjectsPerGroup, so its intervals and the gap say little; folds: 1 for a holdout split.
const BASE = ['cell_id', 'source', 'target', 'strategy', 'size', 'seed', 'params', 'scope', 'group', 'windows', 'subjects', 'few_subjects', 'folds'];
const METRICS = ['mae', 'mae_lo', 'mae_hi', 'rmse', 'rmse_lo', 'rmse_hi', 'gap', 'gap_lo', 'gap_hi', 'gap_mad', 'gap_mad_lo', 'gap_mad_hi', 'worst_group', 'worst_group_mae', 'worst_group_mae_lo', 'worst_group_mae_hi'];
const RUN = ['bootstrap_resamples', 'bootstrap_level', 'mmd_estimator', 'best_epoch', 'best_val_mae', 'seconds', 'strategy_seconds', 'peak_rss_mib'];

/** Embedding names over all results, sorted, so the columns do not depend on cell order. */
function embeddingNames(results: ExperimentResults): string[] {
  const names = new Set<string>();
  for (const c of results.cells) for (const t of c.targets) for (const k of Object.keys(t.metrics.embeddings)) names.add(k);
  return [...names].sort();
}

export function metricsCsvHeader(results: ExperimentResults): string[] {
  const emb = embeddingNames(results).flatMap((e) => [`mmd2_${e}`, `mmd2_p_${e}`, `silhouette_${e}`]);
  return [...BASE, ...METRICS, ...emb, ...RUN];
}

export function metricsCsv(results: ExperimentResults): string {
  checkResults(results);
  const embs = embeddingNames(results);
  const rows: CsvValue[][] = [];
  for (const c of results.cells) {
    const params = Object.keys(c.params).length === 0 ? '' : JSON.stringify(c.params);
    const run: CsvValue[] = [c.training.bestEpoch, c.training.bestValMae, c.training.seconds, c.training.strategySeconds ?? '', c.training.peakRssMiB ?? ''];
    for (const t of c.targets) {
      const m = t.metrics;
      const base: CsvValue[] = [c.id, c.source, t.target, c.strategy, c.size, c.seed, params];
      // Results written before the biased estimator existed used the unbiased one.
      const estimator = Object.values(m.embeddings)[0]?.mmd.estimator ?? 'unbiased';
      const boot: CsvValue[] = [m.bootstrap.resamples, m.bootstrap.level, estimator];
      rows.push([
        ...base, 'overall', '', m.windows, m.subjects, (t.evaluation?.fewSubjects.length ?? 0) > 0 ? 'yes' : 'no', t.evaluation?.folds ?? 1,
        m.mae.estimate, m.mae.lo, m.mae.hi, m.rmse.estimate, m.rmse.lo, m.rmse.hi, m.gap.estimate, m.gap.lo, m.gap.hi,
        m.gapMad?.estimate ?? '', m.gapMad?.lo ?? '', m.gapMad?.hi ?? '',
        m.worstGroup.group, m.worstGroup.estimate, m.worstGroup.lo, m.worstGroup.hi,
        ...embs.flatMap((e): CsvValue[] => {
          const r = m.embeddings[e];
          return r ? [r.mmd.mmd2, r.mmd.pValue, r.silhouette.score] : ['', '', ''];
        }),
        ...boot, ...run,
      ]);
      for (const g of m.perGroup) {
        rows.push([
          ...base, 'group', g.group, g.windows, g.subjects, t.evaluation?.fewSubjects.includes(g.group) ? 'yes' : 'no', t.evaluation?.folds ?? 1,
          g.mae.estimate, g.mae.lo, g.mae.hi, '', '', '', '', '', '', '', '', '', '', '', '', '',
          ...embs.flatMap((e): CsvValue[] => {
            const s = m.embeddings[e]?.silhouette.perGroup.find((p) => p.group === g.group);
            return ['', '', s ? s.score : ''];
          }),
          ...boot, ...run,
        ]);
      }
    }
  }
  return toCsv(metricsCsvHeader(results), rows);
}
