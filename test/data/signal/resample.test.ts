import { gcd, resample, resampledLength } from '../../../src/data/signal/resample';
import { amplitudeAt, maxResidual, rms, tone } from './helpers';

const RATES = [30, 64, 125, 250];

describe('resample', () => {
  test('gcd and output length', () => {
    expect(gcd(64, 40)).toBe(8);
    expect(gcd(125, 40)).toBe(5);
    expect(resampledLength(640, 64, 40)).toBe(400);
    expect(resampledLength(300, 30, 40)).toBe(400);
    expect(resample(new Float32Array(1250), 125, 40).length).toBe(400);
  });

  describe.each(RATES.flatMap((r) => [[r, 40], [40, r]]))('%i Hz → %i Hz', (from, to) => {
    test('a sinusoid keeps its frequency, amplitude (1 %) and phase', () => {
      const f = 2.3, amp = 1.7, seconds = 20;
      const x = tone(from * seconds, from, f, amp, 0.3);
      const y = resample(x, from, to);
      expect(y.length).toBe(to * seconds);
      // Interior only (2 s from the ends, where the edge hold disturbs the filter).
      const a = 2 * to, b = y.length - 2 * to;
      expect(Math.abs(amplitudeAt(y, to, f, a, b) / amp - 1)).toBeLessThan(0.01);
      // Same time origin: the output equals the ideal sinusoid sampled at the new rate.
      const ideal = tone(y.length, to, f, amp, 0.3);
      let worst = 0;
      for (let i = a; i < b; i++) worst = Math.max(worst, Math.abs(y[i] - ideal[i]));
      expect(worst).toBeLessThan(0.01 * amp);
      expect(maxResidual(y, to, f, a, b)).toBeLessThan(0.01 * amp);
    });

    test('content above the new Nyquist (or images of upsampling) is attenuated by > 40 dB', () => {
      const seconds = 20;
      const nyqOut = to / 2, nyqIn = from / 2;
      if (to < from) {
        // Tones between the new Nyquist and the old one must vanish.
        for (const f of [nyqOut + 0.5, (nyqOut + nyqIn) / 2, nyqIn - 1]) {
          const y = resample(tone(from * seconds, from, f), from, to);
          const a = 2 * to, b = y.length - 2 * to;
          expect(rms(y, a, b) / Math.SQRT1_2).toBeLessThan(0.01);
        }
      } else {
        // Upsampling: a tone at f below the input Nyquist has an image at from − f, which must vanish.
        const f = 0.8 * nyqIn;
        const y = resample(tone(from * seconds, from, f), from, to);
        const a = 2 * to, b = y.length - 2 * to;
        expect(amplitudeAt(y, to, from - f, a, b)).toBeLessThan(0.01);
        expect(Math.abs(amplitudeAt(y, to, f, a, b) - 1)).toBeLessThan(0.01);
      }
    });
  });

  test('a constant stays constant, including at the ends (edge hold)', () => {
    const y = resample(new Float32Array(300).fill(3), 30, 40);
    for (const v of y) expect(v).toBeCloseTo(3, 4);
  });

  test('same rate is a copy; bad rates are rejected', () => {
    const x = Float32Array.from([1, 2, 3]);
    expect(Array.from(resample(x, 40, 40))).toEqual([1, 2, 3]);
    expect(() => resample(x, 0, 40)).toThrow(/fromHz must be a positive integer/);
    expect(() => resample(x, 64, 40.5)).toThrow(/toHz must be a positive integer/);
  });
});
