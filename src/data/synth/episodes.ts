// Tachycardia and bradycardia episodes: the events an alarm should catch. They are placed per recording
// from the preset's rates on their own random stream (so a recording without an episode is exactly what it
// was before episodes existed), and returned as the ground-truth event list. During an episode the HR moves toward the
// episode's target with a time constant of EPISODE_TAU_S and returns to its normal course afterwards.
import { Rng } from '../../util/random';
import type { HrEpisode } from '../types';

/** How often episodes happen in a domain. */
export interface EpisodeRate {
  /** Episodes per hour of recording, placed at random (Poisson) in long recordings. */
  perHour?: number;
  /** Share of short clips recorded during an episode (the whole clip is the episode), for spot-check domains. */
  clipShare?: number;
  /** Duration range in seconds (perHour episodes). */
  seconds?: [number, number];
  /** Target HR range in bpm. */
  hr: [number, number];
}

export interface EpisodeRates {
  tachy: EpisodeRate;
  brady: EpisodeRate;
}

/** Onset and offset time constant: HR reaches 95% of an episode's target within 3τ = 15 s. */
export const EPISODE_TAU_S = 5;
/** Normal rhythm kept between two episodes, and at the start and end of a recording. */
const SPACING_S = 30;

function poisson(rng: Rng, mean: number): number {
  // Knuth's method: means here are a few at most.
  const l = Math.exp(-mean);
  let k = 0, p = rng.uniform();
  while (p > l) {
    k++;
    p *= rng.uniform();
  }
  return k;
}

/** Episodes of one recording of `duration` seconds, sorted by start, never overlapping. */
export function drawEpisodes(rates: EpisodeRates, duration: number, rng: Rng): HrEpisode[] {
  const out: HrEpisode[] = [];
  const kinds: ('tachy' | 'brady')[] = ['tachy', 'brady'];
  // A clip is one episode or none: tachy with its share, else brady with its share.
  const u = rng.uniform();
  let acc = 0;
  for (const kind of kinds) {
    const r = rates[kind];
    if (r.clipShare === undefined) continue;
    acc += r.clipShare;
    if (u < acc) {
      out.push({ kind, start: 0, end: duration, targetHr: r.hr[0] + (r.hr[1] - r.hr[0]) * rng.uniform() });
      return out;
    }
  }
  for (const kind of kinds) {
    const r = rates[kind];
    if (!r.perHour || !r.seconds) continue;
    const n = poisson(rng, (r.perHour * duration) / 3600);
    for (let k = 0; k < n; k++) {
      const len = r.seconds[0] + (r.seconds[1] - r.seconds[0]) * rng.uniform();
      const targetHr = r.hr[0] + (r.hr[1] - r.hr[0]) * rng.uniform();
      // A few tries to find a free place; a recording too full for one more keeps what it has.
      for (let attempt = 0; attempt < 20; attempt++) {
        const room = duration - 2 * SPACING_S - len;
        if (room <= 0) break;
        const start = SPACING_S + room * rng.uniform();
        const end = start + len;
        if (out.every((e) => end + SPACING_S <= e.start || start >= e.end + SPACING_S)) {
          out.push({ kind, start, end, targetHr });
          break;
        }
      }
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * The weight of the episode in force at each step of a trajectory: w moves toward 1 inside an episode and
 * toward 0 outside it with time constant EPISODE_TAU_S; an episode that covers the start begins at full weight.
 * Returns w and the target HR per step (NaN where w is 0 and no episode has run).
 */
export function episodeWeights(episodes: readonly HrEpisode[], t0: number, dt: number, n: number): { w: Float64Array; target: Float64Array } {
  const w = new Float64Array(n);
  const target = new Float64Array(n).fill(NaN);
  let cur = episodes.some((e) => e.start <= Math.max(0, t0) && e.end > Math.max(0, t0)) ? 1 : 0;
  let last = NaN;
  for (let i = 0; i < n; i++) {
    const t = t0 + i * dt;
    const e = episodes.find((x) => t >= x.start && t < x.end) ?? (t < 0 ? episodes.find((x) => x.start <= 0 && x.end > 0) : undefined);
    if (e) last = e.targetHr;
    cur += (((e ? 1 : 0) - cur) * dt) / EPISODE_TAU_S;
    w[i] = cur;
    target[i] = last;
  }
  return { w, target };
}
