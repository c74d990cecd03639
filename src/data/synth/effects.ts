// Group effects: the ONE place where a subject's group (gender, skin type, age) changes the signal.
// A study turns them up, down or off (scaleGroupEffects(DEFAULT_GROUP_EFFECTS, 0) = no group effects)
// and records the object in the dataset manifest. The defaults are modelling choices inspired by the
// literature, sized so that a model fine-tuned on one group's dominant data shows an error gap:
//  - women's resting HR is a few bpm higher than men's;
//  - women have on average a smaller pulse amplitude at the wrist/finger (lower perfusion) and an
//    earlier, stronger reflected (diastolic) wave (shorter stature, higher augmentation index);
//  - melanin absorbs green light, so darker skin (Fitzpatrick 5–6) gives a weaker pulse for the same
//    sensor noise, i.e. a lower SNR;
//  - stiffer arteries with age move the reflected wave towards the systolic peak (the notch fades);
//  - artefact rate: a looser fit on smaller wrists gives more motion artefacts.

export type Gender = 'F' | 'M';

export interface GroupEffects {
  /** Added to the subject's resting HR, in bpm. */
  restingHrOffsetBpm: Record<Gender, number>;
  /** Multiplies the pulse amplitude (perfusion). */
  perfusionByGender: Record<Gender, number>;
  /** Multiplies the pulse amplitude, index 0..5 = Fitzpatrick type 1..6. */
  perfusionBySkin: [number, number, number, number, number, number];
  /** Added to the diastolic (reflected) wave's relative amplitude (systolic = 1). */
  reflectionAmplitudeByGender: Record<Gender, number>;
  /** Added to the delay of the reflected wave behind the systolic peak, in seconds (negative = earlier). */
  reflectionDelayByGenderS: Record<Gender, number>;
  /** Arterial stiffness gained per year of age above 20 (stiffness 1 ≈ an 80-year-old's). */
  stiffnessPerYear: number;
  /** Multiplies the motion-artefact burst rate. */
  artefactRateByGender: Record<Gender, number>;
}

export const DEFAULT_GROUP_EFFECTS: GroupEffects = {
  restingHrOffsetBpm: { F: 5, M: 0 },
  perfusionByGender: { F: 0.75, M: 1 },
  perfusionBySkin: [1, 0.96, 0.9, 0.8, 0.68, 0.56],
  reflectionAmplitudeByGender: { F: 0.12, M: 0 },
  reflectionDelayByGenderS: { F: -0.03, M: 0 },
  stiffnessPerYear: 1 / 60,
  artefactRateByGender: { F: 1.3, M: 1 },
};

/**
 * Scale every effect towards "no effect": offsets are multiplied by s, multipliers become 1 + s·(m − 1)
 * (clamped at 0.05 so amplitudes stay positive). s = 0 removes all group effects (stiffness is then the
 * same for every age), s = 2 doubles them.
 */
export function scaleGroupEffects(e: GroupEffects, s: number): GroupEffects {
  if (!Number.isFinite(s) || s < 0) throw new Error(`scaleGroupEffects: scale must be a finite number ≥ 0, got ${s}`);
  const mul = (m: number): number => Math.max(0.05, 1 + s * (m - 1));
  const byG = (r: Record<Gender, number>, f: (v: number) => number): Record<Gender, number> => ({ F: f(r.F), M: f(r.M) });
  return {
    restingHrOffsetBpm: byG(e.restingHrOffsetBpm, (v) => v * s),
    perfusionByGender: byG(e.perfusionByGender, mul),
    perfusionBySkin: e.perfusionBySkin.map(mul) as GroupEffects['perfusionBySkin'],
    reflectionAmplitudeByGender: byG(e.reflectionAmplitudeByGender, (v) => v * s),
    reflectionDelayByGenderS: byG(e.reflectionDelayByGenderS, (v) => v * s),
    stiffnessPerYear: e.stiffnessPerYear * s,
    artefactRateByGender: byG(e.artefactRateByGender, mul),
  };
}

export const NO_GROUP_EFFECTS: GroupEffects = scaleGroupEffects(DEFAULT_GROUP_EFFECTS, 0);
