import type { Subject } from '../../src/data/types';
import { assertNoEmptyGroup, bandLabels, buildGroups, groupNames } from '../../src/fairness/groups';

const subjects: Subject[] = [
  { id: 'S1', attributes: { gender: 'M', age: 25, skin: 2 } },
  { id: 'S2', attributes: { gender: 'F', age: 70, skin: 10 } },
  { id: 'S3', attributes: { gender: 'F', age: 39.9, skin: 1 } },
  { id: 'S4', attributes: { gender: 'M', age: 40, skin: 2 } },
];

describe('buildGroups', () => {
  test('one categorical attribute: names sorted, ids and counts per window', () => {
    const subjectIndex = Int32Array.from([0, 0, 1, 2, 3, 3, 3]);
    const g = buildGroups(subjectIndex, subjects, { attributes: ['gender'] });
    expect(g.names).toEqual(['F', 'M']);
    expect(Array.from(g.groupOf)).toEqual([1, 1, 0, 0, 1, 1, 1]);
    expect(Array.from(g.counts)).toEqual([2, 5]);
    expect(Array.from(g.subjectGroup)).toEqual([1, 0, 0, 1]);
  });

  test('intersection with a banded numeric attribute (cut at 40: 39.9 is below, 40 is at or above)', () => {
    const subjectIndex = Int32Array.from([0, 1, 2, 3]);
    const g = buildGroups(subjectIndex, subjects, { attributes: ['gender', 'age'], bands: { age: [40] } });
    // Present combinations only, ordered by gender then band: F|<40 (S3), F|>=40 (S2), M|<40 (S1), M|>=40 (S4).
    expect(g.names).toEqual(['F|<40', 'F|>=40', 'M|<40', 'M|>=40']);
    expect(Array.from(g.groupOf)).toEqual([2, 1, 0, 3]);
    expect(Array.from(g.counts)).toEqual([1, 1, 1, 1]);
  });

  test('band labels for several cut points', () => {
    expect(bandLabels([40, 65])).toEqual(['<40', '40-65', '>=65']);
    const g = buildGroups(Int32Array.from([0, 1, 2, 3]), subjects, { attributes: ['age'], bands: { age: [30, 65] } });
    expect(g.names).toEqual(['<30', '30-65', '>=65']);
    expect(Array.from(g.groupOf)).toEqual([0, 2, 1, 1]);
  });

  test('numeric attribute without cut points is categorical, ordered numerically (2 before 10)', () => {
    expect(groupNames(subjects, { attributes: ['skin'] })).toEqual(['1', '2', '10']);
  });

  test('a pinned vocabulary keeps ids equal across splits and flags outsiders', () => {
    const names = groupNames(subjects, { attributes: ['gender'] });
    const onlyMen = [subjects[0], subjects[3]];
    const g = buildGroups(Int32Array.from([0, 1]), onlyMen, { attributes: ['gender'], names });
    expect(g.names).toEqual(['F', 'M']);
    expect(Array.from(g.groupOf)).toEqual([1, 1]);
    expect(Array.from(g.counts)).toEqual([0, 2]);
    expect(() => assertNoEmptyGroup(g.counts, g.names, 'train')).toThrow('group "F" is empty in the train split');
    expect(() => buildGroups(Int32Array.from([0]), subjects, { attributes: ['gender'], names: ['M'] })).toThrow(
      'subject "S2" is in group "F", which is not one of the given groups (M)',
    );
  });

  test('missing attribute names the subject and the attribute', () => {
    const bad: Subject[] = [...subjects, { id: 'S9', attributes: { gender: 'F' } }];
    expect(() => buildGroups(Int32Array.from([0]), bad, { attributes: ['gender', 'age'], bands: { age: [40] } })).toThrow(
      'subject "S9" has no attribute "age" (it has: gender)',
    );
  });

  test('bad specs and inputs throw clear errors', () => {
    const idx = Int32Array.from([0]);
    expect(() => buildGroups(idx, subjects, { attributes: [] })).toThrow('at least one attribute');
    expect(() => buildGroups(idx, subjects, { attributes: ['gender'], bands: { gender: [1] } })).toThrow('cut points');
    expect(() => buildGroups(idx, subjects, { attributes: ['age'], bands: { age: [50, 40] } })).toThrow('increase strictly');
    expect(() => buildGroups(idx, subjects, { attributes: ['age'], bands: { skin: [3] } })).toThrow('"skin", which is not one of the attributes');
    expect(() => buildGroups(Int32Array.from([0, 4]), subjects, { attributes: ['gender'] })).toThrow('subjectIndex[1] = 4 is outside [0, 4)');
    const nan: Subject[] = [{ id: 'X', attributes: { age: NaN } }];
    expect(() => buildGroups(idx, nan, { attributes: ['age'] })).toThrow('attribute "age" of subject "X" is NaN');
    const empty: Subject[] = [{ id: 'X', attributes: { gender: ' ' } }];
    expect(() => buildGroups(idx, empty, { attributes: ['gender'] })).toThrow('attribute "gender" of subject "X" is empty');
  });

  test('assertNoEmptyGroup names every empty group and passes when none is empty', () => {
    expect(() => assertNoEmptyGroup([3, 0, 0], ['a', 'b', 'c'], 'test')).toThrow('groups "b", "c" are empty in the test split');
    expect(() => assertNoEmptyGroup([3, 1], ['a', 'b'], 'train')).not.toThrow();
  });
});
