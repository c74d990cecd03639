// PPG realism statistics on signals whose answer is known, and the `data realism` comparison on the real
// ICU pleth fixtures against the synthetic domains.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ppgStats } from '../../src/data/signal/ppg-stats';
import { measureRealRecord, measureSyntheticPreset } from '../../src/data/realism';
import { registerDataCommand } from '../../src/cli/commands/data';
import { Command } from 'commander';
import { Rng } from '../../src/util/random';
import { record, requireFixtures } from './wfdb/fixtures';

const FS = 125;
const tone = (seconds: number, f: number, harmonics: number[]): Float64Array =>
  Float64Array.from({ length: seconds * FS }, (_, i) => harmonics.reduce((a, h, k) => a + h * Math.sin(2 * Math.PI * (k + 1) * f * (i / FS)), 0));

describe('ppgStats', () => {
  test('harmonic ratios and HR of a signal made of known harmonics', () => {
    const s = ppgStats(tone(60, 1.25, [1, 0.4, 0.15]), FS);
    expect(s.hrBpm).toBeCloseTo(75, 0);
    expect(s.h2h1).toBeCloseTo(0.4, 2);
    expect(s.h3h1).toBeCloseTo(0.15, 2);
    expect(s.share.pulse).toBeGreaterThan(0.99);
    expect(s.segments.length).toBe(14); // 8 s segments every 4 s over 60 s
  });

  test('white noise spreads its power: about three quarters above 5 Hz at 40 Hz', () => {
    const rng = new Rng(3);
    const x = Float64Array.from({ length: 120 * FS }, () => rng.normal());
    const s = ppgStats(x, FS);
    // Flat up to the 40 Hz resampler's cut-off near 20 Hz: (20 − 5) / (20 − 0.05), a little less for its roll-off.
    expect(s.share.high).toBeGreaterThan(0.65);
    expect(s.share.high).toBeLessThan(0.78);
  });

  test('a two-wave pulse has a notch; a one-wave pulse has none', () => {
    const pulse = (dia: number) => Float64Array.from({ length: 60 * FS }, (_, i) => {
      const t = (i / FS) % 0.8;
      return Math.exp(-0.5 * ((t - 0.15) / 0.06) ** 2) + dia * Math.exp(-0.5 * ((t - 0.42) / 0.07) ** 2);
    });
    const two = ppgStats(pulse(0.45), FS);
    expect(two.notchDepth).toBeGreaterThan(0.1);
    // The cycle starts at the systolic peak (0.15 s); the minimum between the waves lies near 0.29 s: (0.29 − 0.15) / 0.8.
    expect(two.notchPhase).toBeGreaterThan(0.12);
    expect(two.notchPhase).toBeLessThan(0.24);
    expect(ppgStats(pulse(0), FS).notchDepth).toBe(0);
    expect(two.beat).toHaveLength(60);
    expect(two.beats).toBeGreaterThan(60);
  });

  test('bad input is named', () => {
    expect(() => ppgStats(new Float64Array(4 * FS), FS)).toThrow(/at least 8 s/);
    expect(() => ppgStats(Float64Array.of(1, NaN), FS)).toThrow(/sample 1 is NaN/);
    expect(() => ppgStats(new Float64Array(10), 0)).toThrow(/fs/);
  });
});

describe('synthetic domains against real ICU pleths', () => {
  beforeAll(requireFixtures);

  test('mimic-like agrees with the real records where the synthetic data was tuned to', () => {
    const real = measureRealRecord({ record: record('a103l'), channel: 'PLETH' }).row;
    const mimic = measureSyntheticPreset('mimic-like', { seed: 1, subjects: 6 }).row;
    // Band-limited noise: the power above 5 Hz is about 1% or less in both (white sensor noise gave more).
    expect(real.highShare).toBeLessThan(0.02);
    expect(mimic.highShare).toBeLessThan(0.02);
    // Baseline wander within the real records' range (0.19–0.36 in docs/synthetic-realism.md).
    expect(mimic.baselineShare).toBeGreaterThan(0.15);
    expect(mimic.baselineShare).toBeLessThan(0.4);
    // A dicrotic notch in the average beat of both.
    expect(real.notchDepth).toBeGreaterThan(0.04);
    expect(mimic.notchDepth).toBeGreaterThan(0.04);
  });

  test('`data realism` writes the table, the numbers and the plot', async () => {
    requireFixtures();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-realism-'));
    try {
      const lines: string[] = [];
      const program = new Command().exitOverride();
      registerDataCommand(program, (s) => lines.push(s));
      const out = path.join(dir, 'r');
      await program.parseAsync(['node', 'fairtune', 'data', 'realism', '--record', `${record('a103l')}:PLETH:0:20000`, '--subjects', '2', '--out', out]);
      const csv = fs.readFileSync(`${out}.csv`, 'utf8').trim().split('\n');
      expect(csv[0].startsWith('source,kind,segments')).toBe(true);
      expect(csv).toHaveLength(1 + 1 + 6); // the record, 3 presets × (noisy, clean)
      expect(fs.readFileSync(`${out}.svg`, 'utf8').startsWith('<svg')).toBe(true);
      const json = JSON.parse(fs.readFileSync(`${out}.json`, 'utf8')) as { rows: unknown[]; curves: unknown[] };
      expect(json.rows).toHaveLength(7);
      expect(json.curves).toHaveLength(4);
      await expect(program.parseAsync(['node', 'fairtune', 'data', 'realism', '--record', 'nocolon', '--out', out])).rejects.toThrow(/path:channel/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
