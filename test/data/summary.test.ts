import { dataPlotSpec, renderDataPlotSvg } from '../../src/data/summary-plot';
import { countsPerGroup, formatSummary, hrHistogram, summarizeWindowSet } from '../../src/data/summary';
import { WindowSet } from '../../src/data/types';

function tiny(): WindowSet {
  const L = 80;
  return {
    domain: 'toy',
    fs: 40,
    length: L,
    windows: Float32Array.from({ length: 4 * L }, (_, i) => Math.sin(i / 5)),
    hr: Float32Array.from([60, 70, 80, 150]),
    subjectIndex: Int32Array.from([0, 0, 1, 2]),
    subjects: [
      { id: 's1', attributes: { gender: 'F', skin: 2, age: 30 } },
      { id: 's2', attributes: { gender: 'M', skin: 5, age: 70 } },
      { id: 's3', attributes: { gender: 'M', skin: 5, age: 50 } },
    ],
    manifest: { source: 'unit' },
  };
}

describe('inspect summary', () => {
  test('counts, HR per group, per subject', () => {
    const s = summarizeWindowSet(tiny());
    expect(s.windows).toBe(4);
    expect(s.subjects).toBe(3);
    expect(s.windowSeconds).toBe(2);
    expect(s.hr.mean).toBe(90);
    expect(s.hr.median).toBe(75);
    expect(Object.keys(s.groups)).toEqual(['gender', 'skin']); // numeric age is not a group, skin is
    expect(s.groups.gender.F).toMatchObject({ windows: 2, subjects: 1, hr: { mean: 65 } });
    expect(s.groups.gender.M).toMatchObject({ windows: 2, subjects: 2, hr: { mean: 115 } });
    expect(s.groups.skin['5'].windows).toBe(2);
    expect(s.perSubject[0]).toMatchObject({ id: 's1', windows: 2, meanHr: 65 });
    expect(s.histogram.reduce((a, b) => a + b)).toBe(4);
    expect(formatSummary(s)).toMatch(/domain toy: 4 windows of 2 s .* 3 subjects/);
    expect(formatSummary(s)).toMatch(/s1 +2 windows +mean HR 65.0/);
    expect(formatSummary(s)).not.toMatch(/import report/);
    // An imported set shows what the loader dropped and why.
    const imported = summarizeWindowSet({ ...tiny(), manifest: { loaderReport: ['r1: PLETH run at 0.0–60.0 s: kept 2 of 3 ECG label windows; rejected: ECG and PPG disagree 1'] } });
    expect(formatSummary(imported)).toMatch(/import report:\n  r1: PLETH run .* rejected: ECG and PPG disagree 1/);
    expect(countsPerGroup(tiny()).perGroup.gender).toEqual({ F: { windows: 2, subjects: 1 }, M: { windows: 2, subjects: 2 } });
  });

  test('histogram bins of 10 bpm from 30 to 210 with clamped ends', () => {
    const h = hrHistogram([29, 30, 39.9, 40, 250]);
    expect(h.length).toBe(18);
    expect(h[0]).toBe(3);
    expect(h[1]).toBe(1);
    expect(h[17]).toBe(1);
  });

  test('plot: one SVG with example windows and per-group histograms', async () => {
    const spec = dataPlotSpec([tiny()], { examples: 2 }) as { vconcat: { data: { values: unknown[] } }[] };
    expect(spec.vconcat[0].data.values.length).toBe(2 * 80);
    const svg = await renderDataPlotSvg([tiny()]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('HR distribution per gender');
    expect(svg).toContain('Example windows');
    await expect(renderDataPlotSvg([])).rejects.toThrow(/no window sets/);
  });
});
