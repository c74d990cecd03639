// Chart 4: how far apart the groups sit in the representation, before (erm) and after mitigation. Bars are
// the mean over seeds of MMD² (or of the silhouette score) between groups, per arm, for each embedding and
// transfer; dots are the seeds; the dashed line marks erm, the unmitigated baseline. MMD² bars carry the
// permutation p-value of every seed as a label, since a static SVG has no tooltips.
import type { TopLevelSpec } from 'vega-lite';
import { armColours } from '../colors';
import type { ReportRecords } from '../records';
import { uniqueInOrder } from '../arms';
import { byRank, withRanks } from './order';

export type ShiftMetric = 'mmd2' | 'silhouette';

/** p-values as printed: 3 decimals, "<0.001" below that. */
export function formatP(p: number): string {
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

interface ShiftRow {
  pair: string;
  embedding: string;
  arm: string;
  seed: number;
  value: number;
  /** The label (p-values of all seeds), on the first seed's row only. */
  label: string | null;
  /** Room above the tallest value for the labels (an invisible mark extends the scale to it). */
  headroom: number;
}

function rowsOf(rec: ReportRecords, metric: ShiftMetric): ShiftRow[] {
  const byKey = new Map<string, ReportRecords['embeddings']>();
  for (const e of rec.embeddings) {
    const k = JSON.stringify([e.pair, e.embedding, e.arm]);
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push(e);
  }
  const rows: ShiftRow[] = [];
  for (const list of byKey.values()) {
    const sorted = [...list].sort((a, b) => a.seed - b.seed);
    const values = sorted.map((e) => e[metric]);
    // One line per seed (the text mark breaks lines at '\n'), so labels stay as narrow as a bar.
    const label = metric === 'mmd2' ? sorted.map((e) => `p=${formatP(e.pValue)}`).join('\n') : null;
    sorted.forEach((e, i) => {
      rows.push({ pair: e.pair, embedding: e.embedding, arm: e.arm, seed: e.seed, value: values[i], label: i === 0 ? label : null, headroom: Math.max(0, ...values) * (label === null ? 1 : 1 + 0.2 * sorted.length) });
    });
  }
  return rows;
}

// The x encoding goes on each layer, not on the facet's inner spec, so the erm reference rule can have none
// and span the panel.
const X = { field: 'arm', type: 'nominal' as const, sort: byRank('arm'), title: null, axis: { labelAngle: 0 } };

export function embeddingShiftSpec(rec: ReportRecords, metric: ShiftMetric): TopLevelSpec {
  const rows = rowsOf(rec, metric);
  const estimators = uniqueInOrder(rec.embeddings.map((e) => e.mmdEstimator)).join(' and ');
  const title = metric === 'mmd2' ? `MMD² (${estimators || 'unbiased'} estimator) between groups (label: permutation p-value per seed)` : 'Silhouette score of groups';
  const hasErm = rec.arms.order.includes('erm');
  return {
    title,
    data: { values: withRanks(rows, { embedding: uniqueInOrder(rows.map((r) => r.embedding)), pair: uniqueInOrder(rows.map((r) => r.pair)), arm: rec.arms.order }) },
    facet: {
      row: { field: 'embedding', type: 'nominal', sort: byRank('embedding'), title: 'embedding' },
      column: { field: 'pair', type: 'nominal', sort: byRank('pair'), title: null },
    },
    spec: {
      width: Math.max(160, 50 * rec.arms.order.length),
      height: 150,
      layer: [
        {
          mark: { type: 'bar', opacity: 0.85, width: { band: 0.7 } },
          encoding: {
            x: X,
            y: { field: 'value', aggregate: 'mean', type: 'quantitative', title: metric === 'mmd2' ? 'MMD²' : 'silhouette' },
            color: { field: 'arm', type: 'nominal', scale: armColours(rec.arms.order), title: 'strategy', legend: null },
          },
        },
        { mark: { type: 'point', filled: true, color: 'black', size: 16 }, encoding: { x: X, y: { field: 'value', type: 'quantitative' } } },
        ...(hasErm
          ? [
              {
                transform: [{ filter: "datum.arm === 'erm'" }],
                mark: { type: 'rule' as const, strokeDash: [4, 3], color: '#555555' },
                encoding: { y: { field: 'value', aggregate: 'mean' as const, type: 'quantitative' as const } },
              },
            ]
          : []),
        ...(metric === 'mmd2'
          ? [
              { mark: { type: 'point' as const, opacity: 0 }, encoding: { x: X, y: { field: 'headroom', type: 'quantitative' as const } } },
              {
                transform: [{ filter: 'datum.label !== null' }],
                // A strip at the top of the panel (pixel y), kept clear of bars by the headroom mark.
                mark: { type: 'text' as const, baseline: 'top' as const, fontSize: 9, lineBreak: '\n', color: '#333333' },
                encoding: { x: X, y: { value: 3 }, text: { field: 'label', type: 'nominal' as const } },
              },
            ]
          : []),
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}
