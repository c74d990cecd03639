import { generateCohort } from '../../../src/data/synth/cohort';
import { DEFAULT_GROUP_EFFECTS, NO_GROUP_EFFECTS, scaleGroupEffects } from '../../../src/data/synth/effects';
import { PRESETS } from '../../../src/data/synth/presets';
import { synthWindowSet } from '../../../src/data/synth/synth-windows';
import { hrFromBeats, makeWindows } from '../../../src/data/windows';

const small = { subjects: 4, seconds: 60 };

describe('synthetic cohorts', () => {
  test('same seed → identical bytes; different seed → different signals', () => {
    for (const preset of ['dalia-like', 'butppg-like', 'mimic-like']) {
      const a = synthWindowSet(preset, { seed: 5, ...small, seconds: preset === 'butppg-like' ? 10 : 60 });
      const b = synthWindowSet(preset, { seed: 5, ...small, seconds: preset === 'butppg-like' ? 10 : 60 });
      const c = synthWindowSet(preset, { seed: 6, ...small, seconds: preset === 'butppg-like' ? 10 : 60 });
      expect(Buffer.from(a.windows.buffer).equals(Buffer.from(b.windows.buffer))).toBe(true);
      expect(Buffer.from(a.hr.buffer).equals(Buffer.from(b.hr.buffer))).toBe(true);
      expect(a.subjects).toEqual(b.subjects);
      expect(Buffer.from(a.windows.buffer).equals(Buffer.from(c.windows.buffer))).toBe(false);
    }
  });

  test("a subject's recording does not depend on how many subjects are drawn", () => {
    const few = generateCohort('mimic-like', { seed: 9, subjects: 2, seconds: 30 });
    const many = generateCohort('mimic-like', { seed: 9, subjects: 5, seconds: 30 });
    const id = few.subjects[0].id;
    const ra = few.recordings.find((r) => r.subjectId === id)!, rb = many.recordings.find((r) => r.subjectId === id)!;
    expect(Array.from(ra.signal)).toEqual(Array.from(rb.signal));
  });

  test('presets: native rate, sizes, exact gender counts, attributes', () => {
    const d = generateCohort('dalia-like', { seed: 1, seconds: 20 });
    expect(d.subjects).toHaveLength(15);
    expect(d.subjects.filter((s) => s.attributes.gender === 'M')).toHaveLength(8);
    expect(d.recordings[0].fs).toBe(64);
    expect(d.recordings[0].signal.length).toBe(64 * 20);
    const b = generateCohort('butppg-like', { seed: 1 });
    expect(b.subjects.filter((s) => s.attributes.gender === 'F')).toHaveLength(25);
    expect(b.recordings).toHaveLength(50 * PRESETS['butppg-like'].recordings);
    expect(b.recordings[0].signal.length).toBe(300);
    const m = generateCohort('mimic-like', { seed: 1, seconds: 20 });
    expect(m.subjects.filter((s) => s.attributes.gender === 'M')).toHaveLength(21);
    expect(m.recordings[0].fs).toBe(125);
    const ages = m.subjects.map((s) => s.attributes.age as number);
    expect(ages.reduce((a, v) => a + v, 0) / ages.length).toBeGreaterThan(55);
    for (const s of [...d.subjects, ...m.subjects]) {
      expect(['F', 'M']).toContain(s.attributes.gender);
      expect(s.attributes.skin).toBeGreaterThanOrEqual(1);
      expect(s.attributes.skin).toBeLessThanOrEqual(6);
      expect(['18-39', '40-59', '60+']).toContain(s.attributes.ageBand);
    }
    expect(m.subjects.some((s) => s.attributes.rhythm === 'AF')).toBe(true);
  });

  test('default sizes give 300–1500 windows of 10 s per preset', () => {
    for (const p of Object.values(PRESETS)) {
      const perRec = Math.floor(p.seconds / 10);
      const n = p.subjects * p.recordings * perRec;
      expect(n).toBeGreaterThanOrEqual(300);
      expect(n).toBeLessThanOrEqual(1500);
    }
  });

  test('labels are exactly 60 / mean inter-beat interval of the beats inside each window', () => {
    const c = generateCohort('mimic-like', { seed: 3, subjects: 3, seconds: 60 });
    const ws = makeWindows(c.recordings, c.subjects, { domain: 'mimic-like', seconds: 10, hopSeconds: 5 });
    let k = 0;
    for (const r of c.recordings) {
      for (let t0 = 0; t0 + 10 <= 60; t0 += 5, k++) {
        const inside = Array.from(r.beats!).filter((t) => t >= t0 && t < t0 + 10);
        const expected = (60 * (inside.length - 1)) / (inside[inside.length - 1] - inside[0]);
        expect(ws.hr[k]).toBeCloseTo(expected, 3);
      }
    }
    expect(k).toBe(ws.hr.length);
    // Irregular rhythm (AF, ectopy) makes the labels differ from 60 / median interval: they are means.
    expect(hrFromBeats(Float64Array.from([0, 1, 1.5, 3]), 0, 10)).toBeCloseTo(60, 9);
    expect(hrFromBeats(Float64Array.from([0, 1]), 0.5, 10)).toBeNaN();
  });

  test('group effects are parameters: turned off, gender no longer changes resting HR or perfusion', () => {
    expect(scaleGroupEffects(DEFAULT_GROUP_EFFECTS, 0)).toEqual(NO_GROUP_EFFECTS);
    expect(NO_GROUP_EFFECTS.perfusionByGender).toEqual({ F: 1, M: 1 });
    expect(scaleGroupEffects(DEFAULT_GROUP_EFFECTS, 2).restingHrOffsetBpm.F).toBe(10);
    const meanPerf = (effects: typeof DEFAULT_GROUP_EFFECTS, g: string): number => {
      const c = generateCohort('butppg-like', { seed: 2, subjects: 50, recordings: 1, effects });
      const v = c.subjects.filter((s) => s.attributes.gender === g).map((s) => s.attributes.perfusion as number);
      return v.reduce((a, b) => a + b, 0) / v.length;
    };
    const on = meanPerf(DEFAULT_GROUP_EFFECTS, 'F') / meanPerf(DEFAULT_GROUP_EFFECTS, 'M');
    const off = meanPerf(NO_GROUP_EFFECTS, 'F') / meanPerf(NO_GROUP_EFFECTS, 'M');
    expect(on).toBeLessThan(0.85);
    expect(off).toBeGreaterThan(0.85);
    const c = generateCohort('mimic-like', { seed: 1, subjects: 3, seconds: 10, effects: NO_GROUP_EFFECTS });
    expect(c.manifest.groupEffects).toEqual(NO_GROUP_EFFECTS);
  });

  test('unknown presets and bad sizes get clear errors', () => {
    expect(() => generateCohort('wesad-like', { seed: 1 })).toThrow(/unknown synthetic preset "wesad-like"; known presets: dalia-like/);
    expect(() => generateCohort('dalia-like', { seed: 1, subjects: 0 })).toThrow(/subjects must be a positive integer/);
    expect(() => generateCohort('dalia-like', { seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => generateCohort('dalia-like', { seed: 1, seconds: 1 })).toThrow(/seconds per recording/);
  });
});
