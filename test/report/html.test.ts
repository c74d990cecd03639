// The HTML report: every chart section holds its SVGs, names appear, text is escaped, the page stands alone.
import { renderReport, chartSections } from '../../src/report';
import type { ExperimentResults } from '../../src/experiment/results';
import { GROUPS, makeResults, NASTY, SOURCES, STRATEGIES, TARGETS } from './fixture';

let results: ExperimentResults;
let html: string;

beforeAll(async () => {
  results = makeResults();
  html = await renderReport(results);
}, 60000);

/** The inner HTML of each chart section, by id. */
function sections(page: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /<section class="chart" id="([^"]+)">([\s\S]*?)<\/section>/g;
  for (let m = re.exec(page); m; m = re.exec(page)) out.set(m[1], m[2]);
  return out;
}

function count(text: string, needle: RegExp): number {
  return (text.match(needle) ?? []).length;
}

describe('renderReport', () => {
  test('each chart section holds its SVGs', () => {
    const s = sections(html);
    const svgs = Object.fromEntries([...s].map(([id, body]) => [id, count(body, /<svg\b/g)]));
    expect(svgs).toEqual({
      'transfer-matrix': 2, // MAE and gap
      'group-mae': 1,
      tradeoff: 1,
      scaling: 0, // one model size: the section says so
      alarms: 0, // the fixture has no alarm metrics: the section says why (test/report/alarms.test.ts draws it)
      'embedding-shift': 2, // MMD² and silhouette
      projection: 1,
      training: 3, // curves, per-group loss, pretraining
    });
    expect(count(html, /<svg\b/g)).toBe(10);
    expect(count(html, /<\/svg>/g)).toBe(10);
    // Each section explains its chart.
    for (const body of s.values()) expect(body).toMatch(/<p class="explain">[^<]{40,}<\/p>/);
  });

  test('with two model sizes, the scaling section plots gap, MAE, MMD² and silhouette against parameters', async () => {
    const two: ExperimentResults = {
      ...results,
      config: { ...results.config, windowSeconds: 10 },
      cells: results.cells.flatMap((c) => [{ ...c, id: `${c.id}-tiny`, size: 'tiny' }, { ...c, id: `${c.id}-19m`, size: '19m' }]),
    };
    const s = sections(await renderReport(two));
    expect(count(s.get('scaling')!, /<svg\b/g)).toBe(4);
    expect(s.get('scaling')).toContain('>parameters</text>');
    expect(s.get('scaling')).not.toContain('One model size only');
  }, 60000);

  test('strategy, group, domain names appear in the charts and tables', () => {
    const s = sections(html);
    for (const strategy of STRATEGIES) {
      // As SVG text (axis or header labels) in the matrix, and as a summary-table cell.
      expect(s.get('transfer-matrix')).toContain(`>${strategy}</text>`);
      expect(html).toContain(`<td>${strategy}</td>`);
    }
    for (const g of GROUPS) {
      expect(s.get('group-mae')).toContain(`>${g}</text>`);
      expect(s.get('projection')).toContain(`>${g}</text>`);
    }
    for (const src of SOURCES) for (const t of TARGETS) expect(html).toContain(`<td>${src} → ${t}</td>`);
    // Permutation p-values are printed on the MMD² chart.
    expect(s.get('embedding-shift')).toMatch(/<tspan>p=(0\.\d{3}|&lt;0\.001)<\/tspan>/);
  });

  test('text from the results is escaped', () => {
    expect(html).not.toContain('<b>');
    expect(html).toContain('cohort &lt;b&gt;\\&quot;F&amp;M\\&quot;&lt;/b&gt; &amp; co'); // JSON-quoted, then escaped
    expect(html).toContain('loss became NaN at epoch 2 &lt;step 17&gt;');
    expect(html).not.toContain('<step 17>');
    expect(NASTY).toContain('<b>');
  });

  test('the page is self-contained and its ids are unique', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script\b/i);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('is deterministic and survives a JSON round trip (NaN group losses become null)', async () => {
    const roundTripped = JSON.parse(JSON.stringify(results)) as ExperimentResults;
    expect(roundTripped.cells.some((c) => c.training.epochs.some((e) => e.trainGroupLoss.includes(null as unknown as number)))).toBe(true);
    // Compared as a boolean: a diff of two half-megabyte pages is no help.
    expect((await renderReport(roundTripped)) === html).toBe(true);
  }, 60000);

  test('results without cells still render, with notes instead of charts', async () => {
    const empty: ExperimentResults = { ...results, cells: [], pretraining: undefined };
    const page = await renderReport(empty);
    expect(count(page, /<svg\b/g)).toBe(0);
    expect(page).toContain('No finished cells.');
    expect(page).toContain('dalia-like-adv-s3');
    expect(chartSections(empty).every((s) => s.specs.length === 0)).toBe(true);
  });

  test('a strategy named like an expression keyword renders (vega parses "if" as an identifier)', async () => {
    // The fixture already has 'if'; a custom sort array containing it would fail with "Unrecognized signal name".
    expect(sections(html).get('tradeoff')).toContain('>if</text>');
  });

  test('malformed results are rejected with the path of the bad field', async () => {
    const bad = JSON.parse(JSON.stringify(results));
    bad.cells[1].targets[0].metrics.mae.estimate = 'five';
    await expect(renderReport(bad)).rejects.toThrow(/cells\[1\]\.targets\[0\]\.metrics\.mae\.estimate/);
    const wrongGroups = JSON.parse(JSON.stringify(results));
    wrongGroups.cells[0].groupNames = ['F', 'X'];
    await expect(renderReport(wrongGroups)).rejects.toThrow(/per-group metrics are for \[F, M\], not a subset in order of the cell's groups \[F, X\]/);
    // A target that lacks a group is fine (its groups are a subset of the cell's, in order).
    const subset = JSON.parse(JSON.stringify(results));
    subset.cells[0].targets[0].metrics.perGroup = subset.cells[0].targets[0].metrics.perGroup.slice(1);
    await expect(renderReport(subset)).resolves.toContain('<svg');
    const badProjection = JSON.parse(JSON.stringify(results));
    badProjection.cells[0].targets[0].projection.group[3] = 5;
    await expect(renderReport(badProjection)).rejects.toThrow(/projection group id 5/);
    await expect(renderReport({} as ExperimentResults)).rejects.toThrow(/invalid experiment results/);
  });
});
