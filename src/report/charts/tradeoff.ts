// Chart 3: the fairness–accuracy trade-off. One point per fine-tuned cell and target (so one per seed), x its
// test MAE and y its group gap, with the 95% bootstrap intervals of both as whiskers; down-left is better.
import type { TopLevelSpec } from 'vega-lite';
import { armColours } from '../colors';
import type { ReportRecords } from '../records';
import { uniqueInOrder } from '../arms';
import { byRank, withRanks } from './order';

export function tradeoffSpec(rec: ReportRecords): TopLevelSpec {
  const colour = { field: 'arm', type: 'nominal' as const, scale: armColours(rec.arms.order), title: 'strategy' };
  return {
    title: 'Gap vs MAE per cell (whiskers: 95% bootstrap CI)',
    data: { values: withRanks(rec.targets, { pair: uniqueInOrder(rec.targets.map((t) => t.pair)) }) },
    facet: { field: 'pair', type: 'nominal', title: null, sort: byRank('pair') },
    columns: 2,
    spec: {
      width: 300,
      height: 220,
      layer: [
        {
          mark: { type: 'rule', strokeWidth: 1.2, opacity: 0.8 },
          encoding: {
            x: { field: 'mae', type: 'quantitative' },
            y: { field: 'gapLo', type: 'quantitative' },
            y2: { field: 'gapHi' },
            color: colour,
          },
        },
        {
          mark: { type: 'rule', strokeWidth: 1, opacity: 0.45 },
          encoding: {
            x: { field: 'maeLo', type: 'quantitative' },
            x2: { field: 'maeHi' },
            y: { field: 'gap', type: 'quantitative' },
            color: colour,
          },
        },
        {
          mark: { type: 'point', filled: true, size: 60, stroke: 'white', strokeWidth: 0.8 },
          encoding: {
            x: { field: 'mae', type: 'quantitative', title: 'MAE (bpm)', scale: { zero: false } },
            y: { field: 'gap', type: 'quantitative', title: 'gap (bpm)' },
            color: colour,
          },
        },
      ],
    },
  };
}
