// The three presets differ in difficulty for the classical estimator in the intended direction:
// mimic-like (ICU, still, clean finger signal) < butppg-like (smartphone, low SNR, some poor clips)
// < dalia-like (wrist during daily activities: periodic motion at step/pedal cadence and bursts).
import { estimateHrWindows } from '../../../src/data/signal/hr-estimator';
import { synthWindowSet } from '../../../src/data/synth/synth-windows';

function estimatorMae(preset: string, opts: { subjects: number; seconds?: number }, clean: boolean): number {
  const ws = synthWindowSet(preset, { seed: 21, clean, ...opts });
  const est = estimateHrWindows(ws.windows, ws.length, 40);
  let s = 0;
  for (let i = 0; i < est.length; i++) s += Math.abs(est[i] - ws.hr[i]);
  return s / est.length;
}

test('HR-estimator error per domain: mimic-like < butppg-like < dalia-like; all clean < 2 bpm', () => {
  const sizes: Record<string, { subjects: number; seconds?: number }> = {
    'dalia-like': { subjects: 6 },
    'butppg-like': { subjects: 30 },
    'mimic-like': { subjects: 10, seconds: 300 },
  };
  const noisy: Record<string, number> = {}, clean: Record<string, number> = {};
  for (const [p, o] of Object.entries(sizes)) {
    noisy[p] = estimatorMae(p, o, false);
    clean[p] = estimatorMae(p, o, true);
  }
  console.log('HR estimator MAE (bpm), clean:', clean, 'noisy:', noisy);
  for (const v of Object.values(clean)) expect(v).toBeLessThan(2);
  expect(noisy['mimic-like']).toBeLessThan(noisy['butppg-like']);
  expect(noisy['butppg-like']).toBeLessThan(noisy['dalia-like']);
  expect(noisy['dalia-like']).toBeGreaterThan(5);
});
