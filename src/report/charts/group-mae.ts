// Chart 2: MAE of each group, per transfer (source → target), grouped by arm. Bars are the mean over seeds
// of the group's MAE. Each seed gets its own slot inside its group's bar, holding that seed's bootstrap
// interval over subjects (a line with end ticks) and its estimate (a dot), so the spread between seeds and
// the width of each interval are both visible and intervals of different seeds never overlap.
import type { TopLevelSpec } from 'vega-lite';
import type { ReportRecords } from '../records';
import { groupColours } from '../colors';
import { uniqueInOrder } from '../arms';
import { byRank, withRanks } from './order';

export function groupMaeSpec(rec: ReportRecords): TopLevelSpec {
  const groups = rec.groupNames;
  const seeds = [...new Set(rec.groups.map((g) => g.seed))].sort((a, b) => a - b);
  const colours = groupColours(groups);
  const bandPerArm = groups.length * Math.max(16, 8 * seeds.length) + 14;
  // The slot of a (group, seed) pair: group-major, so a group's seeds sit side by side within its bar.
  const slot = (group: string, seed: number) => `${group}|${seed}`;
  const slots = groups.flatMap((g) => seeds.map((s) => slot(g, s)));
  const rows = rec.groups.map((g) => ({ ...g, slot: slot(g.group, g.seed) }));
  const noPadding = { paddingInner: 0, paddingOuter: 0 };
  const slotOffset = { field: 'slot', type: 'nominal' as const, sort: byRank('slot'), scale: noPadding };
  return {
    title: 'MAE per group (bars: mean over seeds; lines: bootstrap CI of each seed)',
    data: { values: withRanks(rows, { pair: uniqueInOrder(rows.map((g) => g.pair)), arm: rec.arms.order, group: groups, slot: slots }) },
    facet: { field: 'pair', type: 'nominal', title: null, sort: byRank('pair') },
    columns: 2,
    spec: {
      width: Math.max(160, bandPerArm * rec.arms.order.length),
      height: 180,
      encoding: { x: { field: 'arm', type: 'nominal', sort: byRank('arm'), title: null, axis: { labelAngle: 0 } } },
      layer: [
        {
          mark: { type: 'bar', opacity: 0.85 },
          encoding: {
            xOffset: { field: 'group', type: 'nominal', sort: byRank('group'), scale: noPadding },
            y: { field: 'mae', aggregate: 'mean', type: 'quantitative', title: 'MAE (bpm)' },
            color: { field: 'group', type: 'nominal', scale: colours, title: 'group' },
          },
        },
        {
          // One nested layer, so the intervals and the dots share one slot scale.
          encoding: { xOffset: slotOffset },
          layer: [
            {
              mark: { type: 'errorbar', ticks: { color: 'black' }, rule: { color: 'black', strokeWidth: 1.2 } },
              encoding: { y: { field: 'lo', type: 'quantitative', title: 'MAE (bpm)' }, y2: { field: 'hi' } },
            },
            {
              mark: { type: 'point', filled: true, color: 'black', size: 14, opacity: 1 },
              encoding: { y: { field: 'mae', type: 'quantitative', title: 'MAE (bpm)' } },
            },
          ],
        },
      ],
      // Bars are placed by group, intervals by (group, seed) slot: two band scales over the same width.
      resolve: { scale: { xOffset: 'independent' } },
    },
  };
}
