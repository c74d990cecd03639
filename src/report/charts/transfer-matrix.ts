// Chart 1: source → target matrices of test MAE or of the group gap, one panel per arm, the mean over
// seeds printed in each cell. All panels share one colour scale so strategies compare at a glance.
import type { TopLevelSpec } from 'vega-lite';
import type { ReportRecords } from '../records';
import { uniqueInOrder } from '../arms';
import { byRank, withRanks } from './order';

export type MatrixMetric = 'mae' | 'gap';

const TITLES: Record<MatrixMetric, string> = {
  mae: 'Test MAE (bpm), mean over seeds',
  gap: 'Group gap in MAE (bpm), mean over seeds',
};

export function transferMatrixSpec(rec: ReportRecords, metric: MatrixMetric): TopLevelSpec {
  const sources = uniqueInOrder(rec.targets.map((t) => t.source));
  const targets = uniqueInOrder(rec.targets.map((t) => t.target));
  return {
    title: TITLES[metric],
    data: {
      values: withRanks(
        rec.targets.map((t) => ({ source: t.source, target: t.target, arm: t.arm, v: t[metric] })),
        { source: sources, target: targets, arm: rec.arms.order },
      ),
    },
    transform: [
      { aggregate: [{ op: 'mean', field: 'v', as: 'value' }, { op: 'count', as: 'seeds' }], groupby: ['source', 'target', 'arm', 'source_rank', 'target_rank', 'arm_rank'] },
      // Text colour flips to white on the darker half of the scale so every printed value stays legible.
      { joinaggregate: [{ op: 'min', field: 'value', as: 'vmin' }, { op: 'max', field: 'value', as: 'vmax' }] },
    ],
    facet: { column: { field: 'arm', type: 'nominal', sort: byRank('arm'), title: null } },
    spec: {
      width: { step: 84 },
      height: { step: 34 },
      encoding: {
        x: { field: 'target', type: 'nominal', sort: byRank('target'), title: 'target', axis: { labelAngle: 0 } },
        y: { field: 'source', type: 'nominal', sort: byRank('source'), title: 'source' },
      },
      layer: [
        {
          mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
          encoding: {
            color: {
              field: 'value',
              type: 'quantitative',
              title: metric === 'mae' ? 'MAE' : 'gap',
              scale: { scheme: metric === 'mae' ? 'blues' : 'oranges', zero: false },
            },
          },
        },
        {
          mark: { type: 'text', fontSize: 12 },
          encoding: {
            text: { field: 'value', type: 'quantitative', format: '.2f' },
            color: { condition: { test: 'datum.value > (datum.vmin + datum.vmax) / 2', value: 'white' }, value: 'black' },
          },
        },
      ],
    },
    resolve: { scale: { color: 'shared' } },
  };
}
