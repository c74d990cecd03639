// `fairtune data inspect --plot`: example windows per domain and the HR histogram per group, as one
// SVG (a vega-lite 5 spec compiled and rendered headless by vega 5).
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { groupValue, HR_BIN_EDGES, hrHistogram } from './summary';
import { WindowSet } from './types';

export interface DataPlotOptions {
  /** Example windows per domain (from different subjects where possible; default 3). */
  examples?: number;
  /** Attribute whose groups get separate histograms (default "gender"). */
  groupBy?: string;
}

/** The vega-lite spec (exported so tests and reports can inspect or reuse it). */
export function dataPlotSpec(sets: WindowSet[], opts: DataPlotOptions = {}): vl.TopLevelSpec {
  const k = opts.examples ?? 3;
  const groupBy = opts.groupBy ?? 'gender';
  const samples: { domain: string; example: string; t: number; value: number }[] = [];
  const bars: { domain: string; group: string; bin: number; binEnd: number; windows: number }[] = [];
  for (const ws of sets) {
    // The first window of each of the first k subjects, z-scored so domains share one y scale.
    const seen = new Set<number>();
    for (let i = 0; i < ws.hr.length && seen.size < k; i++) {
      const s = ws.subjectIndex[i];
      if (seen.has(s)) continue;
      seen.add(s);
      const w = ws.windows.subarray(i * ws.length, (i + 1) * ws.length);
      const mean = w.reduce((a, b) => a + b, 0) / w.length;
      const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length) || 1;
      const label = `${ws.subjects[s].id} (${ws.hr[i].toFixed(0)} bpm)`;
      w.forEach((v, j) => samples.push({ domain: ws.domain, example: label, t: j / ws.fs, value: (v - mean) / sd }));
    }
    const byGroup = new Map<string, number[]>();
    ws.subjectIndex.forEach((s, i) => {
      const g = groupValue(ws.subjects[s].attributes, groupBy);
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g)!.push(ws.hr[i]);
    });
    for (const [g, v] of byGroup) {
      hrHistogram(v).forEach((c, b) => bars.push({ domain: ws.domain, group: g, bin: HR_BIN_EDGES[b], binEnd: HR_BIN_EDGES[b + 1], windows: c }));
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    vconcat: [
      {
        title: 'Example windows (z-scored, 40 Hz)',
        data: { values: samples },
        mark: { type: 'line', strokeWidth: 1 },
        width: 600,
        height: 90,
        encoding: {
          row: { field: 'domain', type: 'nominal', title: null },
          x: { field: 't', type: 'quantitative', title: 'time (s)' },
          y: { field: 'value', type: 'quantitative', title: 'PPG (z)' },
          color: { field: 'example', type: 'nominal', title: 'window' },
        },
      },
      {
        title: `HR distribution per ${groupBy}`,
        data: { values: bars },
        mark: { type: 'bar', opacity: 0.6 },
        width: 600,
        height: 90,
        encoding: {
          row: { field: 'domain', type: 'nominal', title: null },
          x: { field: 'bin', type: 'quantitative', bin: { binned: true, step: 10 }, title: 'HR (bpm)', scale: { domain: [30, 210] } },
          x2: { field: 'binEnd' },
          y: { field: 'windows', type: 'quantitative', stack: null, title: 'windows' },
          color: { field: 'group', type: 'nominal', title: groupBy },
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as vl.TopLevelSpec;
}

export async function renderDataPlotSvg(sets: WindowSet[], opts: DataPlotOptions = {}): Promise<string> {
  if (sets.length === 0) throw new Error('renderDataPlotSvg: no window sets to plot');
  const compiled = vl.compile(dataPlotSpec(sets, opts)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
