import { Recording, Subject } from '../../src/data/types';
import { hrFromTrack, makeWindows } from '../../src/data/windows';

const subjects: Subject[] = [
  { id: 'a', attributes: { gender: 'F' } },
  { id: 'b', attributes: { gender: 'M' } },
  { id: 'unused', attributes: { gender: 'M' } },
];

function sine(fs: number, seconds: number, hz: number): Float32Array {
  return Float32Array.from({ length: fs * seconds }, (_, i) => Math.sin((2 * Math.PI * hz * i) / fs));
}

describe('makeWindows', () => {
  test('resamples to 40 Hz, cuts windows, labels from beats and from an HR track', () => {
    const beats = Float64Array.from({ length: 40 }, (_, i) => i * 0.8); // 75 bpm
    const recs: Recording[] = [
      { subjectId: 'a', recordId: 'r1', fs: 64, signal: sine(64, 30, 1.25), beats },
      {
        subjectId: 'b', recordId: 'r2', fs: 125, signal: sine(125, 25, 1.5),
        hrTrack: { t: Float64Array.from([4, 8, 12, 16, 20]), hr: Float64Array.from([90, 92, 94, 96, 98]) },
      },
    ];
    const ws = makeWindows(recs, subjects, { domain: 'test', seconds: 10, hopSeconds: 5 });
    expect(ws.fs).toBe(40);
    expect(ws.length).toBe(400);
    // 30 s → windows at 0, 5, …, 20 (5); 25 s → 0, 5, 10, 15 (4).
    expect(ws.hr.length).toBe(9);
    expect(ws.windows.length).toBe(9 * 400);
    expect(ws.hr[0]).toBeCloseTo(75, 4);
    expect(ws.subjects.map((s) => s.id)).toEqual(['a', 'b']); // subjects without windows are dropped
    expect(Array.from(ws.subjectIndex)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
    // Track: window [0,10] holds labels at 4 and 8 → 91; [5,15] → 8, 12 → 93.
    expect(ws.hr[5]).toBeCloseTo(91, 5);
    expect(ws.hr[6]).toBeCloseTo(93, 5);
    // The signal is band-passed and resampled, not scaled: a 1.25 Hz unit sine keeps its amplitude.
    const w = ws.windows.subarray(400, 800);
    expect(Math.max(...w)).toBeGreaterThan(0.9);
    expect(Math.max(...w)).toBeLessThan(1.1);
    expect(ws.manifest).toMatchObject({ domain: 'test', windowSeconds: 10, hopSeconds: 5, counts: { windows: 9, subjects: 2 } });
  });

  test('windows touching a gap (NaN) are dropped; nearest label is used when none falls inside', () => {
    const x = sine(40, 40, 1);
    x.fill(NaN, 40 * 12, 40 * 14);
    const ws = makeWindows(
      [{ subjectId: 'a', recordId: 'g', fs: 40, signal: x, hrTrack: { t: Float64Array.from([5, 31]), hr: Float64Array.from([60, 70]) } }],
      subjects,
      { domain: 't' },
    );
    // Windows [0,10) label 60, [10,20) gap, [20,30) nearest label (31 s, within one window) 70, [30,40) 70.
    expect(ws.hr.length).toBe(3);
    expect(ws.manifest.dropped).toEqual({ gaps: 1, noLabel: 0, flat: 0 });
    expect(Array.from(ws.hr)).toEqual([60, 70, 70]);
    expect(hrFromTrack(Float64Array.from([100]), Float64Array.from([60]), 0, 10)).toBeNaN();
  });

  test('bad input is named', () => {
    const ok: Recording = { subjectId: 'a', recordId: 'x', fs: 40, signal: sine(40, 20, 1), beats: Float64Array.from([1, 2]) };
    expect(() => makeWindows([{ ...ok, subjectId: 'zz' }], subjects, { domain: 't' })).toThrow(/recording zz\/x belongs to unknown subject "zz"/);
    expect(() => makeWindows([{ ...ok, beats: undefined }], subjects, { domain: 't' })).toThrow(/neither beat times nor an HR track/);
    expect(() => makeWindows([{ ...ok, fs: 62.5 }], subjects, { domain: 't' })).toThrow(/sampling rate 62.5/);
    expect(() => makeWindows([ok], subjects, { domain: 't', seconds: 0.01 })).toThrow(/whole number of samples/);
    expect(() => makeWindows([ok], [...subjects, subjects[0]], { domain: 't' })).toThrow(/appears twice/);
  });
});
