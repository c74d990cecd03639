// Group ids for fairness: every window gets the group of its subject, where a group is one attribute's
// level (gender "F") or the intersection of several ("F|<40"). Train and test splits must number groups
// the same way, so the vocabulary can be computed once (groupNames on the whole cohort) and passed in.
import type { Attributes, Subject } from '../data/types';

export interface GroupSpec {
  /** One attribute, or several whose intersection forms the groups (names join levels in this order). */
  attributes: readonly string[];
  /**
   * Cut points (ascending) for numeric attributes. With cuts [c0, …, ck−1] a value v falls in band
   * "<c0" when v < c0, "c(j−1)-cj" when c(j−1) ≤ v < cj, and ">=c(k−1)" when v ≥ c(k−1).
   * Numeric attributes without cut points are categorical (e.g. Fitzpatrick skin type 1–6).
   */
  bands?: Readonly<Record<string, readonly number[]>>;
  /** Fix the group vocabulary and its order; a subject outside it is an error. */
  names?: readonly string[];
}

export interface Groups {
  /** [N windows] group id of each window, an index into `names`. */
  groupOf: Int32Array;
  /** Group names, e.g. ["F", "M"] or ["F|<40", "F|>=40", "M|<40", "M|>=40"]. */
  names: string[];
  /** [G] windows per group (may hold zeros: see assertNoEmptyGroup). */
  counts: Int32Array;
  /** [subjects.length] group id of each subject. */
  subjectGroup: Int32Array;
}

/** Separator between the levels of an intersection. */
export const GROUP_SEPARATOR = '|';

/** A subject's level of one attribute: a label and a rank that orders labels of the same attribute. */
interface Level {
  label: string;
  /** Band index for banded attributes; for categorical ones filled in after all values are seen. */
  rank: number;
  /** The raw value, for ordering categorical levels. */
  raw: string | number;
}

function checkSpec(spec: GroupSpec): void {
  if (!Array.isArray(spec.attributes) || spec.attributes.length === 0) {
    throw new Error('groups: spec.attributes must name at least one attribute');
  }
  const seen = new Set<string>();
  for (const a of spec.attributes) {
    if (typeof a !== 'string' || a.length === 0) throw new Error(`groups: attribute names must be non-empty strings, got ${JSON.stringify(a)}`);
    if (seen.has(a)) throw new Error(`groups: attribute "${a}" is listed twice`);
    seen.add(a);
  }
  for (const [attr, cuts] of Object.entries(spec.bands ?? {})) {
    if (!seen.has(attr)) throw new Error(`groups: cut points given for "${attr}", which is not one of the attributes (${spec.attributes.join(', ')})`);
    if (cuts.length === 0) throw new Error(`groups: cut points for "${attr}" are empty`);
    for (let i = 0; i < cuts.length; i++) {
      if (!Number.isFinite(cuts[i])) throw new Error(`groups: cut point ${i} for "${attr}" is ${cuts[i]}, not a finite number`);
      if (i > 0 && !(cuts[i] > cuts[i - 1])) throw new Error(`groups: cut points for "${attr}" must increase strictly, got [${cuts.join(', ')}]`);
    }
  }
}

/** The band labels of a set of cut points, in band order. */
export function bandLabels(cuts: readonly number[]): string[] {
  const labels = [`<${cuts[0]}`];
  for (let j = 1; j < cuts.length; j++) labels.push(`${cuts[j - 1]}-${cuts[j]}`);
  labels.push(`>=${cuts[cuts.length - 1]}`);
  return labels;
}

function bandOf(v: number, cuts: readonly number[]): number {
  let b = 0;
  while (b < cuts.length && v >= cuts[b]) b++;
  return b;
}

function levelOf(subject: Subject, attr: string, cuts: readonly number[] | undefined): Level {
  const attrs: Attributes | undefined = subject.attributes;
  if (attrs === undefined || attrs === null || !Object.prototype.hasOwnProperty.call(attrs, attr)) {
    const has = attrs ? Object.keys(attrs).join(', ') || 'none' : 'none';
    throw new Error(`groups: subject "${subject.id}" has no attribute "${attr}" (it has: ${has})`);
  }
  const v = attrs[attr];
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`groups: attribute "${attr}" of subject "${subject.id}" is ${v}`);
    if (cuts !== undefined) {
      const b = bandOf(v, cuts);
      return { label: bandLabels(cuts)[b], rank: b, raw: v };
    }
    return { label: String(v), rank: 0, raw: v };
  }
  if (typeof v !== 'string') throw new Error(`groups: attribute "${attr}" of subject "${subject.id}" is a ${typeof v}, not a string or number`);
  if (v.trim().length === 0) throw new Error(`groups: attribute "${attr}" of subject "${subject.id}" is empty`);
  if (cuts !== undefined) {
    throw new Error(`groups: attribute "${attr}" of subject "${subject.id}" is "${v}", not a number, but cut points were given for it`);
  }
  if (v.includes(GROUP_SEPARATOR)) {
    throw new Error(`groups: attribute "${attr}" of subject "${subject.id}" is "${v}", which contains the group separator "${GROUP_SEPARATOR}"`);
  }
  return { label: v, rank: 0, raw: v };
}

/** Orders categorical values: numbers numerically, before strings; strings by code point. */
function compareRaw(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Each subject's levels with ranks filled in, so that groups sort by attribute order, then level order. */
function subjectLevels(subjects: readonly Subject[], spec: GroupSpec): Level[][] {
  checkSpec(spec);
  const levels = subjects.map((s) => spec.attributes.map((a) => levelOf(s, a, spec.bands?.[a])));
  spec.attributes.forEach((attr, k) => {
    if (spec.bands?.[attr] !== undefined) return;
    const distinct = new Map<string, string | number>();
    for (const ls of levels) distinct.set(ls[k].label, ls[k].raw);
    const order = [...distinct.entries()].sort((x, y) => compareRaw(x[1], y[1])).map((e) => e[0]);
    const rank = new Map(order.map((label, i) => [label, i]));
    for (const ls of levels) ls[k].rank = rank.get(ls[k].label) as number;
  });
  return levels;
}

function joinLabels(ls: readonly Level[]): string {
  return ls.map((l) => l.label).join(GROUP_SEPARATOR);
}

/**
 * The distinct groups among `subjects` (all of them, whether or not they have windows), ordered by the
 * first attribute's levels, then the second's, …; categorical levels sort numerically or by code point.
 */
export function groupNames(subjects: readonly Subject[], spec: GroupSpec): string[] {
  const levels = subjectLevels(subjects, spec);
  const byName = new Map<string, Level[]>();
  for (const ls of levels) byName.set(joinLabels(ls), ls);
  return [...byName.entries()]
    .sort((x, y) => {
      for (let k = 0; k < x[1].length; k++) {
        const d = x[1][k].rank - y[1][k].rank;
        if (d !== 0) return d;
      }
      return 0;
    })
    .map((e) => e[0]);
}

/**
 * Group ids of windows from their subjects. `subjectIndex[i]` indexes `subjects` (as in WindowSet).
 * Without spec.names the vocabulary is groupNames(subjects, spec).
 */
export function buildGroups(subjectIndex: Int32Array, subjects: readonly Subject[], spec: GroupSpec): Groups {
  if (!(subjectIndex instanceof Int32Array)) throw new Error('groups: subjectIndex must be an Int32Array');
  if (subjects.length === 0) throw new Error('groups: no subjects');
  const levels = subjectLevels(subjects, spec);
  const names = spec.names !== undefined ? [...spec.names] : groupNames(subjects, spec);
  if (names.length === 0) throw new Error('groups: spec.names is empty');
  const idOf = new Map<string, number>();
  names.forEach((n, i) => {
    if (idOf.has(n)) throw new Error(`groups: group name "${n}" is given twice`);
    idOf.set(n, i);
  });
  const subjectGroup = new Int32Array(subjects.length);
  levels.forEach((ls, s) => {
    const name = joinLabels(ls);
    const id = idOf.get(name);
    if (id === undefined) {
      throw new Error(`groups: subject "${subjects[s].id}" is in group "${name}", which is not one of the given groups (${names.join(', ')})`);
    }
    subjectGroup[s] = id;
  });
  const groupOf = new Int32Array(subjectIndex.length);
  const counts = new Int32Array(names.length);
  for (let i = 0; i < subjectIndex.length; i++) {
    const s = subjectIndex[i];
    if (s < 0 || s >= subjects.length) {
      throw new Error(`groups: subjectIndex[${i}] = ${s} is outside [0, ${subjects.length}) (the number of subjects)`);
    }
    const g = subjectGroup[s];
    groupOf[i] = g;
    counts[g]++;
  }
  return { groupOf, names, counts, subjectGroup };
}

/** Throws 'group "F|>=65" is empty in the train split' (naming every empty group) when a count is 0. */
export function assertNoEmptyGroup(counts: ArrayLike<number>, names: readonly string[], splitName: string): void {
  if (counts.length !== names.length) {
    throw new Error(`assertNoEmptyGroup: ${counts.length} counts but ${names.length} group names`);
  }
  const empty: string[] = [];
  for (let g = 0; g < counts.length; g++) if (!(counts[g] > 0)) empty.push(`"${names[g]}"`);
  if (empty.length === 1) throw new Error(`group ${empty[0]} is empty in the ${splitName} split`);
  if (empty.length > 1) throw new Error(`groups ${empty.join(', ')} are empty in the ${splitName} split`);
}
