// The terminal summary: one aligned row per transfer and strategy, seeds pooled.
import { summaryRows, summaryTable } from '../../src/report';
import { reportRecords } from '../../src/report/records';
import type { ExperimentResults } from '../../src/experiment/results';
import { makeResults, SEEDS, SOURCES, STRATEGIES, TARGETS } from './fixture';

let results: ExperimentResults;
beforeAll(() => {
  results = makeResults();
});

describe('summaryTable', () => {
  test('one aligned row per transfer × strategy, in strategy order', () => {
    const lines = summaryTable(results).split('\n');
    const head = lines[0];
    expect(head).toMatch(/^source → target\s+strategy\s+seeds\s+MAE \(bpm\)\s+gap \(bpm\)\s+worst group/);
    expect(lines[1]).toMatch(/^-+( +-+)+$/);
    const body = lines.slice(2, 2 + SOURCES.length * TARGETS.length * STRATEGIES.length);
    expect(body).toHaveLength(16);
    const maeCol = head.indexOf('MAE');
    const gapCol = head.indexOf('gap');
    for (const line of body) {
      // Columns line up: MAE and gap values start under their headings.
      expect(line.slice(maeCol)).toMatch(/^\d+\.\d\d \[\d+\.\d\d, \d+\.\d\d\]/);
      expect(line.slice(gapCol)).toMatch(/^\d+\.\d\d \[\d+\.\d\d, \d+\.\d\d\]/);
      expect(line).toMatch(/\b[FM] [12]\/2/);
    }
    expect(body.slice(0, 4).map((l) => l.split(/\s{2,}/)[1])).toEqual(STRATEGIES);
    expect(lines.join('\n')).toContain('1 cell(s) failed: dalia-like-adv-s3');
  });

  test('pools seeds: mean estimate, union of intervals', () => {
    const rec = reportRecords(results);
    const rows = summaryRows(rec);
    const r = rows.find((x) => x.arm === 'groupdro' && x.pair === `${SOURCES[1]} → ${TARGETS[0]}`)!;
    const cells = results.cells.filter((c) => c.source === SOURCES[1] && c.strategy === 'groupdro');
    expect(cells).toHaveLength(SEEDS.length);
    const ms = cells.map((c) => c.targets[0].metrics);
    expect(r.seeds).toBe(2);
    expect(r.mae.estimate).toBeCloseTo((ms[0].mae.estimate + ms[1].mae.estimate) / 2, 12);
    expect(r.gap.lo).toBe(Math.min(ms[0].gap.lo, ms[1].gap.lo));
    expect(r.gap.hi).toBe(Math.max(ms[0].gap.hi, ms[1].gap.hi));
    expect(r.worst.reduce((s, w) => s + w.seeds, 0)).toBe(2);
  });

  test('no cells: says so', () => {
    expect(summaryTable({ ...results, cells: [], failed: [] })).toBe('report-test: no finished cells');
  });
});
