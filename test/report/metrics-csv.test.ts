// metrics.csv: one row per cell × target × (overall | group), parseable, values matching the results.
import { parse } from 'csv-parse/sync';
import { metricsCsv, metricsCsvHeader } from '../../src/report';
import type { ExperimentResults } from '../../src/experiment/results';
import { GROUPS, makeResults, SEEDS, SOURCES, STRATEGIES, TARGETS } from './fixture';
import { parseCsv } from './csv-parse';

let results: ExperimentResults;
let rows: string[][];
let header: string[];
let body: Record<string, string>[];

beforeAll(() => {
  results = makeResults();
  rows = parseCsv(metricsCsv(results));
  header = rows[0];
  body = rows.slice(1).map((r) => Object.fromEntries(header.map((h, k) => [h, r[k]])));
});

describe('metricsCsv', () => {
  test('has a header and one row per cell × target × (overall + each group)', () => {
    expect(header.slice(0, 9)).toEqual(['cell_id', 'source', 'target', 'strategy', 'size', 'seed', 'params', 'scope', 'group']);
    for (const e of ['z', 'pooled']) expect(header).toEqual(expect.arrayContaining([`mmd2_${e}`, `mmd2_p_${e}`, `silhouette_${e}`]));
    expect(header).toEqual(metricsCsvHeader(results));
    const expected = SOURCES.length * STRATEGIES.length * SEEDS.length * TARGETS.length * (1 + GROUPS.length);
    expect(expected).toBe(96); // 16 cells × 2 targets × (overall + F + M)
    expect(body).toHaveLength(expected);
    for (const r of rows) expect(r).toHaveLength(header.length);
    expect(body.filter((r) => r.scope === 'overall')).toHaveLength(expected / 3);
    for (const g of GROUPS) expect(body.filter((r) => r.scope === 'group' && r.group === g)).toHaveLength(expected / 3);
  });

  test('csv-parse reads the same table', () => {
    expect(parse(metricsCsv(results))).toEqual(rows);
  });

  test('values match the results they came from', () => {
    const cell = results.cells[5];
    const t = cell.targets[1];
    const overall = body.find((r) => r.cell_id === cell.id && r.target === t.target && r.scope === 'overall')!;
    expect(Number(overall.mae)).toBe(t.metrics.mae.estimate);
    expect(Number(overall.gap_lo)).toBe(t.metrics.gap.lo);
    expect(Number(overall.rmse_hi)).toBe(t.metrics.rmse.hi);
    expect(overall.worst_group).toBe(t.metrics.worstGroup.group);
    expect(Number(overall.mmd2_p_pooled)).toBe(t.metrics.embeddings.pooled.mmd.pValue);
    expect(Number(overall.windows)).toBe(t.metrics.windows);
    expect(overall.group).toBe('');
    const m = body.find((r) => r.cell_id === cell.id && r.target === t.target && r.group === 'M')!;
    const gm = t.metrics.perGroup[1];
    expect(Number(m.mae_hi)).toBe(gm.mae.hi);
    expect(Number(m.subjects)).toBe(gm.subjects);
    expect(m.rmse).toBe('');
    expect(Number(m.silhouette_z)).toBe(t.metrics.embeddings.z.silhouette.perGroup[1].score);
    expect(m.mmd2_z).toBe('');
  });

  test('params with commas and quotes survive as JSON in one quoted field', () => {
    const adv = body.find((r) => r.strategy === 'adv')!;
    expect(JSON.parse(adv.params)).toEqual({ lambda: 0.5, width: 64 });
    expect(metricsCsv(results)).toContain('"{""lambda"":0.5,""width"":64}"');
    expect(body.find((r) => r.strategy === 'erm')!.params).toBe('');
  });

  test('every metric column is a finite number where filled', () => {
    const numeric = header.filter((h) => /^(mae|rmse|gap|worst_group_mae|mmd2|silhouette|windows|subjects|seed|bootstrap)/.test(h));
    for (const r of body) for (const h of numeric) if (r[h] !== '') expect(Number.isFinite(Number(r[h]))).toBe(true);
  });
});
