// What is added to the clean pulse train: respiration (baseline), baseline wander, motion (periodic
// with the activity's cadence plus random bursts) and sensor noise. Amplitudes are absolute, while the
// pulse amplitude follows perfusion, so low perfusion (group effects) means lower SNR.
// Real PPG noise is band-limited, not white: a sensor's own noise is mostly low-frequency (ambient light,
// tissue and contact changes) with a small white floor, and a motion or pressure artefact moves the baseline
// as well as adding oscillation. So the sensor noise is a one-pole low-pass process (corner SENSOR_CORNER_HZ)
// plus a white floor of SENSOR_WHITE of its sd, and every burst carries a slow baseline excursion
// (docs/synthetic-realism.md compares the result with real records).
import { Rng } from '../../util/random';
import { ActivitySpan, activityAt } from './activity';

/** A random smooth signal: a sum of sinusoids with random frequencies in [fLo, fHi] and phases. */
function smoothNoise(rng: Rng, fLo: number, fHi: number, count: number): (t: number) => number {
  const f: number[] = [], ph: number[] = [], a: number[] = [];
  for (let i = 0; i < count; i++) {
    f.push(fLo + (fHi - fLo) * rng.uniform());
    ph.push(2 * Math.PI * rng.uniform());
    a.push(0.5 + rng.uniform());
  }
  const norm = Math.sqrt(2 / a.reduce((s, v) => s + v * v, 0));
  return (t: number) => {
    let s = 0;
    for (let i = 0; i < count; i++) s += a[i] * Math.sin(2 * Math.PI * f[i] * t + ph[i]);
    return s * norm; // unit RMS
  };
}

export interface Burst {
  start: number;
  end: number;
  amp: number;
}

/** Poisson bursts over [0, duration) with rate (per minute) = base + perMotion · motion(t) · group. */
export function drawBursts(
  rng: Rng,
  spans: ActivitySpan[],
  duration: number,
  restPerMinute: number,
  perMotionPerMinute: number,
  groupRate: number,
): Burst[] {
  const out: Burst[] = [];
  const step = 0.5;
  for (let t = 0; t < duration; t += step) {
    const rate = (restPerMinute + perMotionPerMinute * activityAt(spans, t).motion) * groupRate / 60;
    if (rng.uniform() < rate * step) {
      const len = 1 + 4 * rng.uniform();
      out.push({ start: t, end: Math.min(duration, t + len), amp: 1 + 2.5 * rng.uniform() });
    }
  }
  return out;
}

export interface ArtefactParams {
  fs: number;
  respHz: number;
  wander: number;
  noiseSd: number;
  spans: ActivitySpan[];
  bursts: Burst[];
}

/** Corner of the sensor noise's low-pass (Hz) and the share (sd) of white noise on top of it. */
export const SENSOR_CORNER_HZ = 2;
export const SENSOR_WHITE = 0.25;

/** Add baseline, motion and noise into `signal` (in place). */
export function addArtefacts(signal: Float32Array, p: ArtefactParams, rng: Rng): void {
  const n = signal.length;
  const wander = smoothNoise(rng, 0.01, 0.12, 4);
  const respPhase = 2 * Math.PI * rng.uniform();
  const burstNoise = p.bursts.map(() => smoothNoise(rng, 0.3, 5, 8));
  const burstDrift = p.bursts.map(() => smoothNoise(rng, 0.05, 0.3, 3));
  // One-pole low-pass with unit variance: y ← a·y + √(1 − a²)·e.
  const a = Math.exp((-2 * Math.PI * SENSOR_CORNER_HZ) / p.fs);
  const drive = Math.sqrt(1 - a * a);
  const coloured = Math.sqrt(1 - SENSOR_WHITE * SENSOR_WHITE);
  let lp = rng.normal();
  const cadencePhase = 2 * Math.PI * rng.uniform();
  const cadenceAmpNoise = smoothNoise(rng, 0.02, 0.1, 3);
  let bi = 0;
  for (let i = 0; i < n; i++) {
    const t = i / p.fs;
    let v = p.wander * wander(t) + 0.15 * Math.sin(2 * Math.PI * p.respHz * t + respPhase);
    const act = activityAt(p.spans, t);
    if (act.cadenceHz > 0 && act.motion > 0) {
      // Arm swing / pedalling: periodic with a harmonic, its strength waxing and waning.
      const a = act.motion * 0.8 * (1 + 0.4 * cadenceAmpNoise(t));
      const ph = 2 * Math.PI * act.cadenceHz * t + cadencePhase;
      v += a * (Math.sin(ph) + 0.4 * Math.sin(2 * ph + 1));
    }
    while (bi < p.bursts.length && p.bursts[bi].end <= t) bi++;
    for (let b = bi; b < p.bursts.length && p.bursts[b].start <= t; b++) {
      const B = p.bursts[b];
      if (t >= B.end) continue;
      const env = Math.sin((Math.PI * (t - B.start)) / (B.end - B.start));
      // Oscillation plus a baseline shift (pressure on the sensor changes), equal in power.
      v += B.amp * env * env * Math.SQRT1_2 * (burstNoise[b](t) + burstDrift[b](t));
    }
    lp = a * lp + drive * rng.normal();
    signal[i] += v + p.noiseSd * (coloured * lp + SENSOR_WHITE * rng.normal());
  }
}
