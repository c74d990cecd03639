// Alarm fairness beside MAE fairness: for each transfer (column) and metric (row), every strategy's gap
// between groups, one dot per seed with its bootstrap interval. The top row is the MAE gap; the rows below
// are the gaps in tachycardia and bradycardia event sensitivity and in false alarms per hour. A strategy
// that lowers the top row but not the rows below makes HR fairer without making alarms fairer.
import type { TopLevelSpec } from 'vega-lite';
import type { AlarmRecord } from '../alarms';
import { armColours } from '../colors';
import { uniqueInOrder } from '../arms';
import { byRank, withRanks } from './order';

const KIND = { tachy: 'tachycardia', brady: 'bradycardia' } as const;

export function alarmGapSpec(records: readonly AlarmRecord[], armOrder: readonly string[]): TopLevelSpec {
  const rows: { pair: string; arm: string; seed: string; metric: string; value: number; lo: number; hi: number }[] = [];
  const metrics: string[] = ['MAE gap (bpm)'];
  const seen = new Set<string>();
  for (const r of records) {
    // The MAE gap once per cell and transfer (each cell has a record per alarm kind).
    const key = `${r.cell}|${r.pair}`;
    if (!seen.has(key)) {
      seen.add(key);
      rows.push({ pair: r.pair, arm: r.arm, seed: String(r.seed), metric: metrics[0], value: r.maeGap.estimate, lo: r.maeGap.lo, hi: r.maeGap.hi });
    }
    for (const [label, iv] of [[`${KIND[r.kind]}: sensitivity gap`, r.sensitivityGap], [`${KIND[r.kind]}: false alarms/h gap`, r.falseAlarmGap]] as const) {
      if (!metrics.includes(label)) metrics.push(label);
      if (iv) rows.push({ pair: r.pair, arm: r.arm, seed: String(r.seed), metric: label, value: iv.estimate, lo: iv.lo, hi: iv.hi });
    }
  }
  const order = (m: string): number => (m.startsWith('MAE') ? 0 : (m.startsWith('tachy') ? 1 : 3) + (m.includes('false') ? 1 : 0));
  metrics.sort((a, b) => order(a) - order(b));
  const seeds = uniqueInOrder(rows.map((r) => r.seed));
  return {
    title: 'Gaps between groups: MAE and alarms (dots: seeds; lines: bootstrap CI over subjects)',
    data: { values: withRanks(rows, { pair: uniqueInOrder(rows.map((r) => r.pair)), arm: [...armOrder], metric: metrics, seed: seeds }) },
    facet: {
      row: { field: 'metric', type: 'nominal', title: null, sort: byRank('metric'), header: { labelAngle: 0, labelAlign: 'left', labelLimit: 0 } },
      column: { field: 'pair', type: 'nominal', title: null, sort: byRank('pair') },
    },
    spec: {
      width: Math.max(140, 34 * armOrder.length * Math.max(1, seeds.length / 2)),
      height: 110,
      encoding: {
        x: { field: 'arm', type: 'nominal', sort: byRank('arm'), title: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'seed', type: 'nominal', sort: byRank('seed') },
        color: { field: 'arm', type: 'nominal', scale: armColours(armOrder), title: 'strategy' },
      },
      layer: [
        { mark: { type: 'errorbar', ticks: true }, encoding: { y: { field: 'lo', type: 'quantitative', title: 'gap' }, y2: { field: 'hi' } } },
        { mark: { type: 'point', filled: true, size: 30, opacity: 1 }, encoding: { y: { field: 'value', type: 'quantitative', title: 'gap' } } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}
