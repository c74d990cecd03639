import { splitSubjects, splitWindowSet, subsetWindowSet } from '../../src/data/split';
import { synthWindowSet } from '../../src/data/synth/synth-windows';
import { Subject } from '../../src/data/types';

const fr = { train: 0.6, val: 0.2, test: 0.2 };

describe('subject splits', () => {
  const ws = synthWindowSet('butppg-like', { seed: 4, subjects: 30, recordings: 2 });

  test('no subject is on two sides, every window is on exactly one side', () => {
    const parts = splitWindowSet(ws, fr, 7, 'gender');
    const ids = (k: 'train' | 'val' | 'test'): string[] => parts[k].subjects.map((s) => s.id);
    const all = [...ids('train'), ...ids('val'), ...ids('test')];
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(30);
    expect(parts.train.hr.length + parts.val.hr.length + parts.test.hr.length).toBe(ws.hr.length);
    expect(parts.train.subjects.length).toBe(18);
    // Stratified: 15 F / 15 M → 9/3/3 of each.
    for (const k of ['train', 'val', 'test'] as const) {
      const f = parts[k].subjects.filter((s) => s.attributes.gender === 'F').length;
      expect(f).toBe(parts[k].subjects.length / 2);
    }
    // Windows keep their subject: each window's subject id maps back to the same subject as before.
    const t = parts.test;
    for (let i = 0; i < t.hr.length; i++) expect(ids('test')).toContain(t.subjects[t.subjectIndex[i]].id);
    expect(t.manifest.subset).toMatchObject({ split: 'test', seed: 7 });
  });

  test('seeded: same seed same split, another seed another split', () => {
    const a = splitSubjects(ws.subjects, fr, 1);
    expect(splitSubjects(ws.subjects, fr, 1)).toEqual(a);
    expect(splitSubjects([...ws.subjects].reverse(), fr, 1).test.sort()).toEqual([...a.test].sort());
    expect(splitSubjects(ws.subjects, fr, 2)).not.toEqual(a);
  });

  test('small strata still put someone on every side where possible', () => {
    const subs: Subject[] = ['a', 'b', 'c', 'd'].map((id, i) => ({ id, attributes: { gender: i < 3 ? 'F' : 'M' } }));
    const s = splitSubjects(subs, { train: 0.5, val: 0.25, test: 0.25 }, 3, 'gender');
    expect(s.train.length + s.val.length + s.test.length).toBe(4);
    expect(s.val.length).toBeGreaterThan(0);
    expect(s.test.length).toBeGreaterThan(0);
  });

  test('subsetWindowSet copies rows and re-indexes subjects', () => {
    const sub = subsetWindowSet(ws, [ws.hr.length - 1, 0]);
    expect(sub.hr[0]).toBe(ws.hr[ws.hr.length - 1]);
    expect(Array.from(sub.windows.subarray(400, 800))).toEqual(Array.from(ws.windows.subarray(0, 400)));
    expect(sub.subjects.map((s) => s.id)).toEqual([ws.subjects[0].id, ws.subjects[ws.subjects.length - 1].id]);
    expect(Array.from(sub.subjectIndex)).toEqual([1, 0]);
    expect(() => subsetWindowSet(ws, [ws.hr.length])).toThrow(/out of range/);
  });

  test('bad fractions and unknown strata are errors', () => {
    expect(() => splitSubjects(ws.subjects, { train: 0.5, val: 0.2, test: 0.2 }, 1)).toThrow(/sum to 1/);
    expect(() => splitSubjects(ws.subjects, { train: 1.2, val: -0.1, test: -0.1 }, 1)).toThrow(/"val" must be a number ≥ 0/);
    expect(() => splitSubjects(ws.subjects, fr, 1, 'eyeColour')).toThrow(/no subject has the attribute "eyeColour"/);
  });
});
