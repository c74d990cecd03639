// Beat times. An instantaneous HR (resting level + activity response + LF oscillation + respiratory
// sinus arrhythmia + slow drift) is integrated into a phase; a beat happens each time the phase passes
// a whole number. Arrhythmia then perturbs the inter-beat intervals (AF-like irregularity, premature
// beats with a compensatory pause). The returned times are exact: window labels are computed from them.
import { Rng } from '../../util/random';
import { ActivitySpan, activityAt } from './activity';
import { episodeWeights } from './episodes';
import type { HrEpisode } from '../types';
import { Physiology } from './subjects';
import { PresetSpec } from './presets';

export interface BeatTrain {
  /** Beat times in seconds (may start before 0: the pulses that overlap the start). */
  times: Float64Array;
  /** Relative strength of each beat (premature beats eject less blood). */
  strength: Float64Array;
}

const DT = 0.05;

/** HR trajectory on a DT grid over [t0, t1). */
function hrTrajectory(spec: PresetSpec, p: Physiology, spans: ActivitySpan[], t0: number, t1: number, rng: Rng, episodes: readonly HrEpisode[]): Float64Array {
  const n = Math.ceil((t1 - t0) / DT);
  const hr = new Float64Array(n);
  const epi = episodeWeights(episodes, t0, DT, n);
  const lfHz = 0.08 + 0.04 * rng.uniform();
  const lfPhase = 2 * Math.PI * rng.uniform();
  const rsaPhase = 2 * Math.PI * rng.uniform();
  let lfAmp = spec.lfBpm * (0.6 + 0.8 * rng.uniform());
  let drift = 0;
  let response = 0; // the activity HR offset with a physiological lag
  const driftTau = 60; // s, Ornstein–Uhlenbeck time constant of the slow drift
  const driftStep = spec.driftBpm * Math.sqrt((2 * DT) / driftTau);
  for (let i = 0; i < n; i++) {
    const t = t0 + i * DT;
    const act = activityAt(spans, Math.max(0, t));
    // HR rises faster than it recovers (about 20 s up, 45 s down).
    const tau = act.hrOffset > response ? 20 : 45;
    response += ((act.hrOffset - response) * DT) / tau;
    drift += (-drift * DT) / driftTau + driftStep * rng.normal();
    lfAmp = Math.max(0, lfAmp + 0.02 * rng.normal());
    const rsa = p.rsaBpm * Math.sin(2 * Math.PI * p.respHz * t + rsaPhase);
    const lf = lfAmp * Math.sin(2 * Math.PI * lfHz * t + lfPhase);
    const normal = p.restingHr + response + drift + lf + rsa;
    // An episode pulls the HR toward its target; the variability (RSA, LF) rides on top of it.
    const level = epi.w[i] > 0 ? normal + epi.w[i] * (epi.target[i] - (p.restingHr + response + drift)) : normal;
    hr[i] = Math.min(200, Math.max(38, level));
  }
  return hr;
}

/**
 * Beats covering [−lead, duration): the first beat falls before 0 so the pulse that is under way at the
 * start of the recording is drawn.
 */
export function generateBeats(spec: PresetSpec, p: Physiology, spans: ActivitySpan[], duration: number, rng: Rng, episodes: readonly HrEpisode[] = []): BeatTrain {
  const lead = 2;
  const t0 = -lead;
  const hr = hrTrajectory(spec, p, spans, t0, duration + 2, rng, episodes);
  const times: number[] = [];
  let phase = rng.uniform();
  for (let i = 0; i < hr.length; i++) {
    const dphi = (hr[i] / 60) * DT;
    if (phase + dphi >= 1) {
      // Linear interpolation inside the step for a sub-sample beat time.
      const frac = (1 - phase) / dphi;
      times.push(t0 + (i + frac) * DT);
      phase = phase + dphi - 1;
    } else {
      phase += dphi;
    }
  }
  // Arrhythmia on the intervals.
  const ibi: number[] = [];
  for (let i = 1; i < times.length; i++) ibi.push(times[i] - times[i - 1]);
  const strength = new Float64Array(times.length).fill(1);
  if (p.af) {
    // AF-like: intervals lose their regularity (independent multiplicative jitter, mean kept).
    for (let i = 0; i < ibi.length; i++) {
      const z = Math.max(-2.5, Math.min(2.5, rng.normal()));
      ibi[i] *= Math.max(0.45, 1 + spec.arrhythmia.afCv * z);
    }
  }
  for (let i = 0; i + 1 < ibi.length; i++) {
    if (rng.uniform() < p.ectopicRate) {
      // A premature beat after 65 % of the interval; the pause after it compensates fully.
      const early = 0.35 * ibi[i];
      ibi[i] -= early;
      ibi[i + 1] += early;
      i++;
    }
  }
  const out = new Float64Array(times.length);
  out[0] = times[0];
  for (let i = 1; i < times.length; i++) out[i] = out[i - 1] + ibi[i - 1];
  // A beat that follows a short interval fills less (Frank–Starling): its pulse is weaker.
  for (let i = 1; i < out.length; i++) {
    const prev = out[i] - out[i - 1];
    const local = 60 / hr[Math.min(hr.length - 1, Math.max(0, Math.round((out[i] - t0) / DT)))];
    strength[i] = Math.min(1.3, Math.max(0.3, Math.pow(prev / local, 1.2)));
  }
  // Keep beats up to the end of the recording only.
  let last = out.length;
  while (last > 0 && out[last - 1] >= duration) last--;
  return { times: out.slice(0, last), strength: strength.slice(0, last) };
}
