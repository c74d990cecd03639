import { bandpass, butterworthBandpass, butterworthLowpass, filtfilt, magnitudeResponse } from '../../../src/data/signal/filter';
import { amplitudeAt, tone } from './helpers';

describe('Butterworth filters', () => {
  test('low-pass design: −3 dB at the cutoff, unity at DC, monotone roll-off', () => {
    for (const order of [1, 2, 3, 4]) {
      const s = butterworthLowpass(order, 8, 40);
      expect(magnitudeResponse(s, 0, 40)).toBeCloseTo(1, 9);
      expect(magnitudeResponse(s, 8, 40)).toBeCloseTo(Math.SQRT1_2, 6);
      expect(magnitudeResponse(s, 12, 40)).toBeLessThan(magnitudeResponse(s, 9, 40));
    }
  });

  test('zero-phase band-pass 0.5–8 Hz keeps a 2 Hz pulse in place and removes drift and high frequencies', () => {
    const fs = 40, n = 40 * 30;
    const x = new Float32Array(n);
    const drift = tone(n, fs, 0.05, 3), hf = tone(n, fs, 15, 1), pulse = tone(n, fs, 2, 1, 0.7);
    for (let i = 0; i < n; i++) x[i] = drift[i] + hf[i] + pulse[i];
    const y = bandpass(x, fs, 0.5, 8);
    const a = 4 * fs, b = n - 4 * fs;
    // Passband: amplitude within 2 %, and no phase shift: y ≈ the pulse sample by sample.
    expect(Math.abs(amplitudeAt(y, fs, 2, a, b) - 1)).toBeLessThan(0.02);
    let worst = 0;
    for (let i = a; i < b; i++) worst = Math.max(worst, Math.abs(y[i] - pulse[i]));
    expect(worst).toBeLessThan(0.05);
    // Stop bands (forward-backward: squared response).
    expect(amplitudeAt(y, fs, 0.05, a, b)).toBeLessThan(0.01 * 3);
    expect(amplitudeAt(y, fs, 15, a, b)).toBeLessThan(0.01);
  });

  test('filtfilt equals the squared magnitude response on a tone', () => {
    const s = butterworthBandpass(2, 0.5, 8, 40);
    const f = 9;
    const y = filtfilt(s, tone(4000, 40, f), 400);
    expect(amplitudeAt(y, 40, f, 400, 3600)).toBeCloseTo(magnitudeResponse(s, f, 40) ** 2, 3);
  });

  test('bad arguments get clear errors', () => {
    expect(() => butterworthLowpass(2, 25, 40)).toThrow(/cutoff 25 Hz must lie in/);
    expect(() => butterworthLowpass(0, 5, 40)).toThrow(/order must be an integer/);
    expect(() => butterworthBandpass(2, 8, 0.5, 40)).toThrow(/must be below/);
    expect(() => bandpass(Float32Array.from([1, NaN, 2]), 40)).toThrow(/sample 1 is NaN/);
  });
});
