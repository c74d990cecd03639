// The report's alarm part on results built from the real evaluateAlarms: seeds pooled as the summary
// table pools them, alarms.csv's shape and totals, and the section on the page.
import type { ExperimentResults } from '../../src/experiment/results';
import { evaluateAlarms } from '../../src/fairness/alarms/evaluate';
import { ALARM_PROFILES } from '../../src/fairness/alarms/rules';
import { alarmRecords, alarmSummaryRows, alarmsCsv, poolIntervals } from '../../src/report/alarms';
import { renderReport } from '../../src/report/html';
import { makeResults } from './fixture';
import { parseCsv } from './csv-parse';

/** The fixture's results with alarm metrics on every target: 12 subjects of 6 consecutive 10 s windows. */
function withAlarms(): ExperimentResults {
  const r = makeResults();
  for (const c of r.cells) {
    c.targets.forEach((t, ti) => {
      const hr: number[] = [], pred: number[] = [], groupOf: number[] = [], subjectIndex: number[] = [], record: number[] = [], start: number[] = [];
      for (let s = 0; s < 12; s++) for (let w = 0; w < 6; w++) {
        // Subjects 0-3 have a tachycardia run in windows 2-4; group F (even) is predicted 25 bpm low in erm.
        const ref = s < 4 && w >= 2 && w <= 4 ? 140 : 75;
        const lowF = s % 2 === 0 && c.strategy === 'erm' ? 25 : 3;
        hr.push(ref); pred.push(ref - lowF + ((s + w + c.seed + ti) % 3)); groupOf.push(s % 2); subjectIndex.push(s); record.push(s); start.push(10 * w);
      }
      t.alarms = { profile: 'icu', ...evaluateAlarms({ pred, hr, groupOf, groupNames: c.groupNames, subjectIndex, record, start, windowSeconds: 10, rule: ALARM_PROFILES.icu, seed: c.seed, resamples: 100 }) };
    });
  }
  return r;
}

test('records and seed-pooled rows: erm misses the F events, the mitigations do not', () => {
  const r = withAlarms();
  const recs = alarmRecords(r);
  expect(recs).toHaveLength(r.cells.length * 2 * 2);
  const rows = alarmSummaryRows(recs, ['erm', 'if', 'groupdro', 'adv']);
  const tachyErm = rows.filter((x) => x.kind === 'tachy' && x.arm === 'erm');
  for (const row of tachyErm) {
    expect(row.seeds).toBe(2);
    expect(row.events).toBe(4);
    expect(row.groups.find((g) => g.group === 'F')!.sensitivity).toBe(0);
    expect(row.groups.find((g) => g.group === 'M')!.sensitivity).toBe(1);
    expect(row.sensitivityGap!.estimate).toBe(1);
  }
  for (const row of rows.filter((x) => x.kind === 'tachy' && x.arm !== 'erm')) expect(row.sensitivityGap!.estimate).toBe(0);
  // No bradycardia events anywhere: no sensitivity gap, but false-alarm rates are defined.
  for (const row of rows.filter((x) => x.kind === 'brady')) {
    expect(row.sensitivityGap).toBeNull();
    expect(row.falseAlarmGap).not.toBeNull();
  }
  expect(poolIntervals([{ estimate: 1, lo: 0, hi: 2 }, null, { estimate: 3, lo: 1, hi: 5 }])).toEqual({ estimate: 2, lo: 0, hi: 5 });
  expect(poolIntervals([null])).toBeNull();
});

test('alarms.csv: a gap row and a row per group for every cell, target and kind', () => {
  const r = withAlarms();
  const [header, ...rows] = parseCsv(alarmsCsv(r));
  expect(header.slice(0, 4)).toEqual(['cell_id', 'source', 'target', 'strategy']);
  expect(rows).toHaveLength(r.cells.length * 2 * 2 * 3);
  const col = (name: string) => header.indexOf(name);
  const gapRows = rows.filter((x) => x[col('scope')] === 'gap');
  // 12 subjects × 1 minute each.
  for (const g of gapRows) expect(Number(g[col('hours')])).toBeCloseTo(12 / 60, 12);
  for (const g of rows.filter((x) => x[col('scope')] === 'group')) expect(g[col('mae_gap')]).toBe('');
});

test('the page shows the alarm chart and table; results without alarms show why not', async () => {
  const html = await renderReport(withAlarms());
  const section = html.slice(html.indexOf('id="alarms"'), html.indexOf('id="embedding-shift"'));
  // Booleans, so a failure does not print the whole SVG.
  expect(section.includes('<svg')).toBe(true);
  expect(section.includes('HR &gt; 120, 2 of 3 windows (icu)')).toBe(true);
  expect(section.includes('F 0.00 · M 1.00')).toBe(true);
  const plain = await renderReport(makeResults());
  const empty = plain.slice(plain.indexOf('id="alarms"'), plain.indexOf('id="embedding-shift"'));
  expect(empty.includes('No alarm metrics')).toBe(true);
  expect(empty.includes('<svg')).toBe(false);
});
