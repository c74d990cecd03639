// The three synthetic domains. Each mimics one real dataset's recording situation (rate, length,
// cohort, noise) closely enough that domain shift between them is real; sizes are defaults that an
// end-to-end experiment with a tiny model runs in minutes on 2 cores (≈ 400–1200 windows of 10 s).
import { Activity } from './activity';
import type { EpisodeRates } from './episodes';

export type PresetName = 'dalia-like' | 'butppg-like' | 'mimic-like';
export const PRESET_NAMES: readonly PresetName[] = ['dalia-like', 'butppg-like', 'mimic-like'];

export interface PresetSpec {
  name: PresetName;
  /** Native sampling rate in Hz. */
  fs: number;
  subjects: number;
  /** Share of women; the counts are exact: round(subjects · femaleShare) women. */
  femaleShare: number;
  /** Recordings per subject and seconds per recording. */
  recordings: number;
  seconds: number;
  /** Age in years ~ N(mean, sd) clamped to [min, max]. */
  age: { mean: number; sd: number; min: number; max: number };
  /** Relative frequency of Fitzpatrick types 1..6. */
  skinWeights: [number, number, number, number, number, number];
  /** Resting HR ~ N(mean, sd) before group effects. */
  restingHr: { mean: number; sd: number };
  /** Pulse amplitude ~ scale · lognormal(0, sd), before group effects. */
  perfusion: { scale: number; sd: number };
  /** White sensor noise (same units as the pulse amplitude, which is ≈ 1 at perfusion 1). */
  noiseSd: number;
  /** Baseline wander amplitude. */
  wander: number;
  /** Activity programme (dalia-like) or a single state. */
  activities: Activity[];
  /** Motion-artefact bursts per minute at motion intensity 1 (scaled by activity and group effects). */
  burstsPerMinute: number;
  /** Bursts per minute that happen regardless of activity (e.g. a hand moving a phone). */
  restBurstsPerMinute: number;
  /** Share of recordings that are "poor quality" (a long strong artefact), as BUT-PPG's quality labels. */
  poorShare: number;
  /** Arrhythmia: share of subjects with AF-like irregularity, its IBI coefficient of variation, ectopic beats per beat. */
  arrhythmia: { afShare: number; afCv: number; ectopicRate: number };
  /** Respiration rate in breaths/min ~ U(min, max). */
  respiration: { min: number; max: number };
  /** Respiratory sinus arrhythmia (bpm) at age 20; decays with age. */
  rsaBpm: number;
  /** Low-frequency (≈0.1 Hz) HR oscillation in bpm and the slow random walk's sd in bpm. */
  lfBpm: number;
  driftBpm: number;
  /**
   * Tachycardia and bradycardia episodes (the events of the alarm evaluation). The rates are those of a
   * cohort enriched for events, as arrhythmia-monitoring studies recruit, chosen so that a default cohort
   * holds 10-20 episodes; the same for every group, so any gap in alarms comes from the model.
   */
  episodes: EpisodeRates;
}

const REST: Activity = { name: 'rest', seconds: Infinity, hrOffset: 0, motion: 0, cadenceHz: 0 };

export const PRESETS: Record<PresetName, PresetSpec> = {
  // PPG-DaLiA: wrist (Empatica E4, green light) at 64 Hz, 15 subjects (8 M / 7 F) doing daily
  // activities; motion during walking, stairs, cycling and sports is the main difficulty.
  'dalia-like': {
    name: 'dalia-like',
    fs: 64,
    subjects: 15,
    femaleShare: 7 / 15,
    recordings: 1,
    seconds: 600,
    age: { mean: 30, sd: 6, min: 21, max: 55 },
    skinWeights: [0.05, 0.35, 0.4, 0.12, 0.05, 0.03],
    restingHr: { mean: 70, sd: 7 },
    perfusion: { scale: 1, sd: 0.2 },
    noiseSd: 0.05,
    wander: 0.4,
    activities: [
      { name: 'sitting', seconds: 90, hrOffset: 0, motion: 0.1, cadenceHz: 0 },
      { name: 'walking', seconds: 90, hrOffset: 22, motion: 0.9, cadenceHz: 1.8 },
      { name: 'stairs', seconds: 60, hrOffset: 35, motion: 1.1, cadenceHz: 1.5 },
      { name: 'recovery', seconds: 60, hrOffset: 5, motion: 0.15, cadenceHz: 0 },
      { name: 'cycling', seconds: 90, hrOffset: 30, motion: 0.6, cadenceHz: 1.2 },
      { name: 'table-soccer', seconds: 60, hrOffset: 15, motion: 1.3, cadenceHz: 0 },
      { name: 'working', seconds: 90, hrOffset: 3, motion: 0.25, cadenceHz: 0 },
      { name: 'driving', seconds: 60, hrOffset: 5, motion: 0.35, cadenceHz: 0 },
    ],
    burstsPerMinute: 4,
    restBurstsPerMinute: 0.3,
    poorShare: 0,
    arrhythmia: { afShare: 0, afCv: 0, ectopicRate: 0.002 },
    respiration: { min: 12, max: 20 },
    rsaBpm: 4,
    lfBpm: 2.5,
    driftBpm: 2,
    // Sustained high HR at the wrist (an SVT-like run or a fever-like rise) and marked bradycardia.
    episodes: { tachy: { perHour: 3, seconds: [45, 120], hr: [130, 160] }, brady: { perHour: 2, seconds: [45, 120], hr: [36, 42] } },
  },
  // BUT-PPG: smartphone camera at 30 Hz, 10 s clips, 50 subjects (25 F / 25 M, 19–76 years); a finger
  // on the lens: lower SNR, pressure changes, some clips of poor quality.
  'butppg-like': {
    name: 'butppg-like',
    fs: 30,
    subjects: 50,
    femaleShare: 0.5,
    recordings: 8,
    seconds: 10,
    age: { mean: 40, sd: 15, min: 19, max: 76 },
    skinWeights: [0.1, 0.45, 0.3, 0.1, 0.03, 0.02],
    restingHr: { mean: 74, sd: 9 },
    perfusion: { scale: 1, sd: 0.3 },
    noiseSd: 0.2,
    wander: 0.8,
    activities: [{ ...REST, motion: 0.2 }],
    burstsPerMinute: 0,
    restBurstsPerMinute: 0.8,
    poorShare: 0.12,
    arrhythmia: { afShare: 0.02, afCv: 0.12, ectopicRate: 0.005 },
    respiration: { min: 12, max: 20 },
    rsaBpm: 4,
    lfBpm: 2,
    driftBpm: 1,
    // Spot checks: a clip is taken during an episode or not.
    episodes: { tachy: { clipShare: 0.06, hr: [110, 145] }, brady: { clipShare: 0.04, hr: [38, 46] } },
  },
  // MIMIC-III waveforms: ICU finger pulse oximeter at 125 Hz, long stable recordings of older and
  // sicker patients (AF, ectopy), about 70 % men.
  'mimic-like': {
    name: 'mimic-like',
    fs: 125,
    subjects: 30,
    femaleShare: 0.3,
    recordings: 1,
    seconds: 400,
    age: { mean: 66, sd: 13, min: 25, max: 95 },
    skinWeights: [0.1, 0.3, 0.3, 0.15, 0.1, 0.05],
    restingHr: { mean: 84, sd: 12 },
    perfusion: { scale: 1, sd: 0.35 },
    noiseSd: 0.03,
    wander: 0.2,
    activities: [{ ...REST, motion: 0.02 }],
    burstsPerMinute: 0,
    restBurstsPerMinute: 0.15,
    poorShare: 0,
    arrhythmia: { afShare: 0.2, afCv: 0.15, ectopicRate: 0.02 },
    respiration: { min: 14, max: 24 },
    rsaBpm: 2,
    lfBpm: 1.5,
    driftBpm: 3,
    // ICU: tachycardic runs (AF with rapid response, sepsis) and bradycardic spells.
    episodes: { tachy: { perHour: 4, seconds: [60, 180], hr: [130, 155] }, brady: { perHour: 3, seconds: [45, 120], hr: [36, 44] } },
  },
};

export function getPreset(name: string): PresetSpec {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown synthetic preset "${name}"; known presets: ${PRESET_NAMES.join(', ')}`);
  }
  return PRESETS[name as PresetName];
}
