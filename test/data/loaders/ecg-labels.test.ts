// ECG-derived HR labels with their quality checks (src/data/loaders/ecg-labels.ts): a clean ECG gives its
// rate; extra detections are dropped; a lead-off artefact that the PPG contradicts, leads that disagree and
// beat intervals no heart makes are rejected and counted.
import { dropExtraBeats, ecgLabels } from '../../../src/data/loaders/ecg-labels';
import { beatsAt, syntheticEcg, syntheticPleth } from './synthetic-ecg';

const fs = 125;

test('a clean ECG and a pleth beating with it: every window kept at the true rate', () => {
  const beats = beatsAt(75, 0.4, 40);
  const l = ecgLabels([syntheticEcg(fs, beats, 40)], syntheticPleth(fs, beats, 40), fs);
  expect(l.considered).toBe(17);
  expect(l.t.length).toBe(17);
  for (const v of l.hr) expect(Math.abs(v - 75)).toBeLessThan(1);
});

test('an extra detection between two beats is dropped, not averaged in', () => {
  const b = [0, 75, 150, 190, 225, 300, 375];
  expect(dropExtraBeats(b)).toEqual([0, 75, 150, 225, 300, 375]);
  // Regular and irregular (AF-like) intervals are left alone.
  expect(dropExtraBeats([0, 75, 150, 225])).toEqual([0, 75, 150, 225]);
  expect(dropExtraBeats([0, 60, 150, 200, 290, 340])).toEqual([0, 60, 150, 200, 290, 340]);
});

test('an ECG at 130 bpm (artefact) against a pleth at 75: rejected as disagreeing, counted', () => {
  const l = ecgLabels([syntheticEcg(fs, beatsAt(130, 0.3, 30), 30)], syntheticPleth(fs, beatsAt(75, 0.4, 30), 30), fs);
  expect(l.t).toEqual([]);
  expect(l.rejected['ECG and PPG disagree']).toBe(l.considered);
  expect(l.considered).toBeGreaterThan(5);
});

test('two leads that disagree reject the window; agreeing leads give their median', () => {
  const pleth = syntheticPleth(fs, beatsAt(75, 0.4, 30), 30);
  const a = syntheticEcg(fs, beatsAt(75, 0.4, 30), 30), b = syntheticEcg(fs, beatsAt(90, 0.4, 30), 30);
  const bad = ecgLabels([a, b], pleth, fs);
  expect(bad.t).toEqual([]);
  expect(bad.rejected['leads disagree']).toBe(bad.considered);
  const good = ecgLabels([a, syntheticEcg(fs, beatsAt(75, 0.4, 30), 30)], pleth, fs);
  expect(good.t.length).toBe(good.considered);
});

test('pauses no heart makes (a 3 s gap between beats) are rejected as implausible intervals', () => {
  const beats = [...beatsAt(70, 0.5, 10), ...beatsAt(70, 13, 30)];
  const l = ecgLabels([syntheticEcg(fs, beats, 30)], syntheticPleth(fs, beats, 30), fs);
  expect(l.rejected['implausible beat intervals']).toBeGreaterThan(0);
  for (const v of l.hr) expect(Math.abs(v - 70)).toBeLessThan(1);
});

test('a lead that is absent where the window lies leaves the window to the others', () => {
  const beats = beatsAt(80, 0.4, 30);
  const gappy = syntheticEcg(fs, beats, 30);
  gappy.fill(NaN, 0, 15 * fs);
  const l = ecgLabels([gappy], syntheticPleth(fs, beats, 30), fs);
  // Windows start every 2 s; those inside [15, 30) only: 15→23, …, 21→29 (a window must lie in one stretch).
  expect(l.considered).toBe(4);
  expect(l.t.length).toBe(4);
});
