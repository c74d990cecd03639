// The cost of each strategy (report/cost.ts) on hand-made cells: overhead against ERM of the same size, the
// strategy's own seconds, and the gap change per extra minute paired over the same transfers and seeds.
import type { CellResult } from '../../src/experiment/results';
import { costRows } from '../../src/report/cost';

function cell(strategy: string, size: string, seed: number, seconds: number, gaps: Record<string, number>, own?: number): CellResult {
  return {
    id: `${strategy}-${size}-${seed}`, source: 'a', strategy, size, seed, params: {}, groupNames: ['F', 'M'],
    training: { epochs: [], bestEpoch: 0, bestValMae: null, windowsPerSecond: 100, seconds, strategySeconds: own, peakRssMiB: 300 + seconds },
    targets: Object.entries(gaps).map(([target, g]) => ({ target, metrics: { gap: { estimate: g } } })) as unknown as CellResult['targets'],
    finished: '',
  };
}

test('overhead, own work and gap change per extra minute, by size, paired on transfer and seed', () => {
  const rows = costRows({
    cells: [
      cell('erm', 'tiny', 0, 60, { a: 4, b: 6 }, 0.1), cell('erm', 'tiny', 1, 60, { a: 2, b: 4 }, 0.1),
      cell('adv', 'tiny', 0, 90, { a: 3, b: 5 }, 20), cell('adv', 'tiny', 1, 90, { a: 1, b: 3 }, 22),
      cell('groupdro', '19m', 0, 100, { a: 1 }), // no ERM of its size: nothing relative to say
    ],
  });
  const adv = rows.find((r) => r.strategy === 'adv')!;
  expect(adv.overhead).toBeCloseTo(0.5, 12);
  expect(adv.strategySeconds).toBe(21);
  expect(adv.gapChange).toBeCloseTo(-1, 12);
  expect(adv.gapChangePerExtraMinute).toBeCloseTo(-2, 12); // −1 bpm for 0.5 extra minutes
  expect(adv.peakRssMiB).toBe(390);
  const erm = rows.find((r) => r.strategy === 'erm')!;
  expect(erm.overhead).toBe(0);
  expect(erm.gapChangePerExtraMinute).toBeNull();
  const dro = rows.find((r) => r.size === '19m')!;
  expect([dro.overhead, dro.gapChange, dro.gapChangePerExtraMinute]).toEqual([null, null, null]);
});
