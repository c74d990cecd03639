// The realism comparison as one SVG: the average beat of every source (top) and its power spectrum
// (bottom), real records in solid lines, synthetic presets dashed.
import * as vl from 'vega-lite';
import { renderVegaLite } from './render-svg';
import type { RealismResult, RealismRow } from '../data/realism';

export function realismSpec(result: RealismResult): vl.TopLevelSpec {
  const kindOf = new Map(result.rows.map((r: RealismRow) => [r.source, r.kind]));
  const beats = result.curves.flatMap((c) => c.beat.map((v, i) => ({ source: c.source, kind: kindOf.get(c.source), phase: i / c.beat.length, value: v })));
  const psd = result.curves.flatMap((c) => c.psd.f.map((f, i) => ({ source: c.source, kind: kindOf.get(c.source), f, db: c.psd.db[i] })));
  const colour = { field: 'source', type: 'nominal' as const, title: 'source' };
  const dash = { field: 'kind', type: 'nominal' as const, title: 'kind', scale: { domain: ['real', 'synthetic'], range: [[1, 0], [5, 3]] } };
  return {
    title: 'Real PPG records against the synthetic domains (40 Hz)',
    vconcat: [
      {
        title: 'Average beat, systolic peak to the next (min–max scaled); the bump after the notch is the diastolic wave',
        width: 560, height: 220, data: { values: beats },
        mark: { type: 'line', strokeWidth: 1.6 },
        encoding: {
          x: { field: 'phase', type: 'quantitative', title: 'phase of the cycle' },
          y: { field: 'value', type: 'quantitative', title: 'scaled amplitude' },
          color: colour, strokeDash: dash,
        },
      },
      {
        title: 'Power spectral density (Welch, 12.8 s segments), dB below its maximum',
        width: 560, height: 220, data: { values: psd },
        mark: { type: 'line', strokeWidth: 1.2 },
        encoding: {
          x: { field: 'f', type: 'quantitative', title: 'frequency (Hz)' },
          y: { field: 'db', type: 'quantitative', title: 'dB', scale: { domain: [-60, 0], clamp: true } },
          color: colour, strokeDash: dash,
        },
      },
    ],
    resolve: { scale: { color: 'shared' } },
  };
}

export function renderRealismSvg(result: RealismResult): Promise<string> {
  return renderVegaLite(realismSpec(result), 'realism');
}
