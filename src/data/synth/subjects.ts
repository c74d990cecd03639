// Drawing a cohort: attributes (what a study groups by) and the hidden physiology the signal is made
// from. Group effects enter here and only here (through GroupEffects).
import { Rng } from '../../util/random';
import { Subject } from '../types';
import { GroupEffects, Gender } from './effects';
import { PresetSpec } from './presets';
import { Stream, streamRng } from './seed';

export interface Physiology {
  gender: Gender;
  age: number;
  skin: number;
  restingHr: number;
  /** Pulse amplitude (≈ 1 typical). */
  perfusion: number;
  /** 0 (young, elastic) .. ~1.2 (old, stiff). */
  stiffness: number;
  /** Diastolic wave amplitude relative to the systolic wave, and its delay behind it in seconds. */
  reflectionAmp: number;
  reflectionDelay: number;
  rsaBpm: number;
  respHz: number;
  af: boolean;
  ectopicRate: number;
  /** Multiplier on motion-artefact bursts. */
  artefactRate: number;
}

export interface SynthSubject {
  subject: Subject;
  physiology: Physiology;
}

export function ageBand(age: number): string {
  if (age < 40) return '18-39';
  if (age < 60) return '40-59';
  return '60+';
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function pickWeighted(rng: Rng, w: readonly number[]): number {
  const total = w.reduce((a, b) => a + b, 0);
  let u = rng.uniform() * total;
  for (let i = 0; i < w.length; i++) {
    u -= w[i];
    if (u < 0) return i;
  }
  return w.length - 1;
}

/**
 * Exact gender counts (round(n · femaleShare) women) in a seeded order; everything else per subject
 * from the subject's own stream.
 */
export function drawSubjects(spec: PresetSpec, n: number, seed: number, effects: GroupEffects, idPrefix: string, matched = false): SynthSubject[] {
  const nF = Math.round(n * spec.femaleShare);
  const genders: Gender[] = [];
  for (let i = 0; i < n; i++) genders.push(i < nF ? 'F' : 'M');
  streamRng(seed, Stream.cohort).shuffle(genders);
  const out: SynthSubject[] = [];
  const hrZ: number[] = [];
  for (let i = 0; i < n; i++) {
    const rng = streamRng(seed, Stream.subject, i);
    const gender = genders[i];
    const age = Math.round(clamp(spec.age.mean + spec.age.sd * rng.normal(), spec.age.min, spec.age.max));
    const skin = pickWeighted(rng, spec.skinWeights) + 1;
    hrZ.push(rng.normal());
    const restingHr = clamp(spec.restingHr.mean + spec.restingHr.sd * hrZ[i] + effects.restingHrOffsetBpm[gender], 45, 120);
    const perfusion =
      spec.perfusion.scale * Math.exp(spec.perfusion.sd * rng.normal()) * effects.perfusionByGender[gender] * effects.perfusionBySkin[skin - 1];
    const stiffness = clamp((age - 20) * effects.stiffnessPerYear + 0.08 * rng.normal(), 0, 1.3);
    // Stiff arteries: the reflected wave comes back sooner and merges with the systolic peak.
    const reflectionAmp = clamp(0.42 - 0.1 * stiffness + effects.reflectionAmplitudeByGender[gender] + 0.05 * rng.normal(), 0.15, 0.8);
    const reflectionDelay = clamp(0.28 - 0.1 * stiffness + effects.reflectionDelayByGenderS[gender] + 0.015 * rng.normal(), 0.12, 0.3);
    const rsaBpm = spec.rsaBpm * Math.exp(-Math.max(0, age - 20) / 40) * (0.7 + 0.6 * rng.uniform());
    const respHz = (spec.respiration.min + (spec.respiration.max - spec.respiration.min) * rng.uniform()) / 60;
    const af = rng.uniform() < spec.arrhythmia.afShare;
    const ectopicRate = spec.arrhythmia.ectopicRate * 2 * rng.uniform();
    const artefactRate = effects.artefactRateByGender[gender] * (0.6 + 0.8 * rng.uniform());
    const id = `${idPrefix}${String(i + 1).padStart(3, '0')}`;
    const attributes: Subject['attributes'] = {
      gender,
      age,
      ageBand: ageBand(age),
      skin,
      perfusion: Math.round(perfusion * 1000) / 1000,
    };
    if (spec.arrhythmia.afShare > 0) attributes.rhythm = af ? 'AF' : 'sinus';
    out.push({
      subject: { id, attributes },
      physiology: { gender, age, skin, restingHr, perfusion, stiffness, reflectionAmp, reflectionDelay, rsaBpm, respHz, af, ectopicRate, artefactRate },
    });
  }
  if (matched) matchRestingHr(out, hrZ, spec, effects);
  return out;
}

/**
 * Matched groups: each gender's resting-HR deviations are centred on their own mean and rescaled to keep
 * their spread (× √(n/(n−1))), so the groups' mean resting HR differs by exactly the documented offset.
 * Unmatched, a small cohort's difference of means wanders by sd·√(1/n_F + 1/n_M) around it: 3.6 bpm for the
 * dalia-like 7 F / 8 M, whose seed 1 draws +9.6 bpm beyond the +5 (docs/synthetic-realism.md).
 */
function matchRestingHr(out: SynthSubject[], z: number[], spec: PresetSpec, effects: GroupEffects): void {
  for (const g of ['F', 'M'] as Gender[]) {
    const idx = out.map((s, i) => (s.physiology.gender === g ? i : -1)).filter((i) => i >= 0);
    if (idx.length < 2) continue;
    const mean = idx.reduce((a, i) => a + z[i], 0) / idx.length;
    const k = Math.sqrt(idx.length / (idx.length - 1));
    for (const i of idx) {
      out[i].physiology.restingHr = clamp(spec.restingHr.mean + spec.restingHr.sd * (z[i] - mean) * k + effects.restingHrOffsetBpm[g], 45, 120);
    }
  }
}
