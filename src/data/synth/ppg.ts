// Rendering the clean pulse train at the native rate from beat times.
import { BeatTrain } from './beats';
import { pulseSpan, pulseWaves } from './morphology';
import { Physiology } from './subjects';

/**
 * Signal of n samples at fs: Σ over beats of strength · perfusion · (1 + respiratory AM) · pulse shape.
 * Respiration modulates the amplitude by ±12 % (intrathoracic pressure changes the stroke volume).
 */
export function renderPulses(beats: BeatTrain, p: Physiology, fs: number, n: number, respPhase: number): Float32Array {
  const out = new Float32Array(n);
  const t = beats.times;
  for (let b = 0; b < t.length; b++) {
    const ibi = b + 1 < t.length ? t[b + 1] - t[b] : b > 0 ? t[b] - t[b - 1] : 0.85;
    const waves = pulseWaves(p, ibi);
    const [lo, hi] = pulseSpan(waves);
    const am = 1 + 0.12 * Math.sin(2 * Math.PI * p.respHz * t[b] + respPhase);
    const scale = beats.strength[b] * p.perfusion * am;
    const i0 = Math.max(0, Math.ceil((t[b] + lo) * fs));
    const i1 = Math.min(n - 1, Math.floor((t[b] + hi) * fs));
    for (let i = i0; i <= i1; i++) {
      const dt = i / fs - t[b];
      let v = 0;
      for (const w of waves) {
        const z = (dt - w.centre) / w.width;
        v += w.amp * Math.exp(-0.5 * z * z);
      }
      out[i] += scale * v;
    }
  }
  return out;
}
