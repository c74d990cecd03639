// Charts: does scale widen the gap? (the paper's question 2). Per transfer, the gap between groups and the
// test MAE against the model's parameter count (log axis), one line per strategy through the sizes' means
// over seeds, each seed a dot; and the embeddings' MMD² and silhouette against size the same way.
import type { TopLevelSpec } from 'vega-lite';
import { uniqueInOrder } from '../arms';
import type { ReportRecords } from '../records';
import { byRank, withRanks } from './order';

type Row = Record<string, unknown>;

function panel(values: readonly Row[], facetField: string, field: string, label: string, title: string): TopLevelSpec {
  const colour = { field: 'strategy', type: 'nominal' as const, title: 'strategy' };
  const x = { field: 'parameters', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'parameters' };
  return {
    title,
    data: { values: withRanks([...values], { [facetField]: uniqueInOrder(values.map((v) => String(v[facetField]))) }) },
    facet: { field: facetField, type: 'nominal', title: null, sort: byRank(facetField) },
    columns: 2,
    spec: {
      width: 280,
      height: 170,
      layer: [
        { mark: { type: 'point', filled: true, opacity: 0.5 }, encoding: { x, y: { field, type: 'quantitative', title: label }, color: colour } },
        { mark: { type: 'line', point: true }, encoding: { x, y: { field, aggregate: 'mean', type: 'quantitative', title: label }, color: colour } },
      ],
    },
  };
}

/** The gap (metric 'gap') or the MAE ('mae') against parameters, per transfer. */
export function scalingErrorSpec(rec: ReportRecords, metric: 'gap' | 'mae'): TopLevelSpec {
  const rows = rec.targets.filter((t) => Number.isFinite(t.parameters)).map((t) => ({ ...t }));
  const label = metric === 'gap' ? 'gap (bpm)' : 'MAE (bpm)';
  return panel(rows, 'pair', metric, label, `${metric === 'gap' ? 'Gap between groups' : 'Test MAE'} against model size (dots: seeds; lines: means)`);
}

/** MMD² or silhouette of the embeddings against parameters, per transfer and embedding. */
export function scalingEmbeddingSpec(rec: ReportRecords, metric: 'mmd2' | 'silhouette'): TopLevelSpec {
  const rows = rec.embeddings.filter((e) => Number.isFinite(e.parameters)).map((e) => ({ ...e, panel: `${e.pair} · ${e.embedding}` }));
  return panel(rows, 'panel', metric, metric === 'mmd2' ? 'MMD²' : 'silhouette', `${metric === 'mmd2' ? 'MMD²' : 'Silhouette'} of the groups' embeddings against model size`);
}

/** The sizes the records hold (the section shows only with two or more). */
export function sizesOf(rec: ReportRecords): string[] {
  return uniqueInOrder(rec.targets.map((t) => t.size));
}
