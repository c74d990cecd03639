import { estimateHr, estimateHrWindows } from '../../../src/data/signal/hr-estimator';
import { generateCohort } from '../../../src/data/synth/cohort';
import { makeWindows } from '../../../src/data/windows';
import { tone } from './helpers';

function mae(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

describe('spectral HR estimator', () => {
  test('finds the frequency of a sinusoid to a fraction of a bpm', () => {
    for (const bpm of [42, 61.5, 88, 130, 185]) {
      const e = estimateHr(tone(400, 40, bpm / 60), 40);
      expect(Math.abs(e.hr - bpm)).toBeLessThan(0.5);
      expect(e.halved).toBe(false);
    }
  });

  test('harmonic check: picks f/2 when its peak is comparable to a taller harmonic', () => {
    // Fundamental 1.1 Hz slightly weaker than its second harmonic (a strong dicrotic wave).
    const a = tone(400, 40, 1.1, 0.8), b = tone(400, 40, 2.2, 1, 1.1);
    const x = a.map((v, i) => v + b[i]);
    const e = estimateHr(x, 40);
    expect(e.halved).toBe(true);
    expect(Math.abs(e.hr - 66)).toBeLessThan(1);
    // A weak sub-harmonic (noise-level) does not trigger the check.
    const y = tone(400, 40, 2.2).map((v, i) => v + 0.1 * a[i]);
    expect(estimateHr(y, 40).halved).toBe(false);
  });

  test('within 2 bpm MAE on clean synthetic windows of every preset', () => {
    for (const preset of ['dalia-like', 'butppg-like', 'mimic-like']) {
      const c = generateCohort(preset, { seed: 11, subjects: 6, seconds: preset === 'butppg-like' ? 10 : 120, clean: true });
      const ws = makeWindows(c.recordings, c.subjects, { domain: preset });
      const est = estimateHrWindows(ws.windows, ws.length, 40);
      expect(ws.hr.length).toBeGreaterThan(5);
      expect(mae(est, ws.hr)).toBeLessThan(2);
    }
  });

  test('rejects short or broken input', () => {
    expect(() => estimateHr(new Float32Array(50), 40)).toThrow(/at least 2 s/);
    const x = tone(400, 40, 1.2);
    x[10] = NaN;
    expect(() => estimateHr(x, 40)).toThrow(/sample 10 is NaN/);
    expect(() => estimateHr(tone(400, 40, 1), 40, { lo: 3, hi: 1 })).toThrow(/search band/);
  });
});
