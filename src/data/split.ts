// Splits are by subject, never by window (DESIGN.md §6): a subject's windows all land on one side.
import { Rng } from '../util/random';
import { deriveSeed } from './synth/seed';
import { groupValue } from './summary';
import { Subject, WindowSet } from './types';

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export type SplitName = keyof SplitFractions;
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

export interface SubjectSplit {
  /** Subject ids per side. */
  train: string[];
  val: string[];
  test: string[];
}

function checkFractions(f: SplitFractions): void {
  for (const k of SPLIT_NAMES) {
    if (!Number.isFinite(f[k]) || f[k] < 0) throw new Error(`split: fraction "${k}" must be a number ≥ 0, got ${f[k]}`);
  }
  const sum = f.train + f.val + f.test;
  if (Math.abs(sum - 1) > 1e-6) throw new Error(`split: fractions must sum to 1, got ${sum} (train ${f.train}, val ${f.val}, test ${f.test})`);
}

/**
 * Largest-remainder allocation of n items to the three sides; a side with a positive fraction gets
 * at least one item when there are enough items to go round.
 */
function allocate(n: number, f: SplitFractions): Record<SplitName, number> {
  const want = SPLIT_NAMES.map((k) => n * f[k]);
  const got = want.map(Math.floor);
  let left = n - got.reduce((a, b) => a + b, 0);
  const order = [0, 1, 2].sort((a, b) => want[b] - got[b] - (want[a] - got[a]) || a - b);
  for (const i of order) if (left > 0) { got[i]++; left--; }
  const positive = [0, 1, 2].filter((i) => f[SPLIT_NAMES[i]] > 0);
  if (n >= positive.length) {
    for (const i of positive) {
      if (got[i] === 0) {
        const donor = [0, 1, 2].reduce((a, b) => (got[b] > got[a] ? b : a));
        got[donor]--;
        got[i]++;
      }
    }
  }
  return { train: got[0], val: got[1], test: got[2] };
}

/** What to stratify by: an attribute's value, or any label of a subject (an intersectional group). */
export type Stratify = string | ((s: Subject) => string);

/** Subjects by stratum, each stratum's subjects sorted by id (so input order does not matter). */
function strataOf(subjects: readonly Subject[], stratifyBy: Stratify | undefined): Map<string, Subject[]> {
  const ids = subjects.map((s) => s.id);
  if (new Set(ids).size !== ids.length) throw new Error('split: subject ids are not unique');
  if (typeof stratifyBy === 'string' && !subjects.some((s) => s.attributes[stratifyBy] !== undefined)) {
    throw new Error(`split: no subject has the attribute "${stratifyBy}" to stratify by`);
  }
  const strata = new Map<string, Subject[]>();
  for (const s of subjects) {
    const key = stratifyBy === undefined ? '' : typeof stratifyBy === 'string' ? groupValue(s.attributes, stratifyBy) : stratifyBy(s);
    if (!strata.has(key)) strata.set(key, []);
    strata.get(key)!.push(s);
  }
  for (const m of strata.values()) m.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return strata;
}

/**
 * Seeded split of subjects into train/val/test. With `stratifyBy`, each value of that attribute (or each
 * label the function gives) is split in the given proportions separately (where a stratum is too small,
 * the remainders are balanced globally), so that every side sees every group.
 */
export function splitSubjects(subjects: Subject[], fractions: SplitFractions, seed: number, stratifyBy?: Stratify): SubjectSplit {
  checkFractions(fractions);
  const strata = strataOf(subjects, stratifyBy);
  const out: SubjectSplit = { train: [], val: [], test: [] };
  const rng = new Rng(deriveSeed(seed, 0x5b17));
  // Strata in sorted order so the result does not depend on the input order of subjects' groups.
  for (const key of [...strata.keys()].sort()) {
    const members = strata.get(key)!.slice();
    rng.shuffle(members);
    const n = allocate(members.length, fractions);
    out.train.push(...members.slice(0, n.train).map((s) => s.id));
    out.val.push(...members.slice(n.train, n.train + n.val).map((s) => s.id));
    out.test.push(...members.slice(n.train + n.val).map((s) => s.id));
  }
  return out;
}

/**
 * The windows at `indices` as a new WindowSet; only the subjects that still have windows are kept,
 * re-indexed in their original order. The manifest records the subset.
 */
export function subsetWindowSet(ws: WindowSet, indices: ArrayLike<number>, note?: Record<string, unknown>): WindowSet {
  const n = ws.hr.length;
  const L = ws.length;
  const idx = Array.from(indices);
  for (const i of idx) if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`subsetWindowSet: index ${i} is out of range [0, ${n})`);
  const used = [...new Set(idx.map((i) => ws.subjectIndex[i]))].sort((a, b) => a - b);
  const remap = new Map(used.map((s, k) => [s, k]));
  const windows = new Float32Array(idx.length * L);
  const hr = new Float32Array(idx.length);
  const subjectIndex = new Int32Array(idx.length);
  idx.forEach((i, k) => {
    windows.set(ws.windows.subarray(i * L, (i + 1) * L), k * L);
    hr[k] = ws.hr[i];
    subjectIndex[k] = remap.get(ws.subjectIndex[i])!;
  });
  return {
    domain: ws.domain,
    fs: ws.fs,
    length: L,
    windows,
    hr,
    subjectIndex,
    subjects: used.map((s) => ws.subjects[s]),
    ...(ws.times ? { times: { record: Int32Array.from(idx, (i) => ws.times!.record[i]), start: Float64Array.from(idx, (i) => ws.times!.start[i]), seconds: ws.times.seconds } } : {}),
    manifest: { ...ws.manifest, subset: { of: n, windows: idx.length, ...(note ?? {}) } },
  };
}

/** Split a WindowSet by subject into three WindowSets. */
export function splitWindowSet(
  ws: WindowSet,
  fractions: SplitFractions,
  seed: number,
  stratifyBy?: string,
): Record<SplitName, WindowSet> & { subjects: SubjectSplit } {
  const split = splitSubjects(ws.subjects, fractions, seed, stratifyBy);
  const side = new Map<string, SplitName>();
  for (const k of SPLIT_NAMES) for (const id of split[k]) side.set(id, k);
  const idx: Record<SplitName, number[]> = { train: [], val: [], test: [] };
  ws.subjectIndex.forEach((s, i) => idx[side.get(ws.subjects[s].id)!].push(i));
  const make = (k: SplitName): WindowSet => subsetWindowSet(ws, idx[k], { split: k, seed, fractions, stratifyBy: stratifyBy ?? null });
  return { train: make('train'), val: make('val'), test: make('test'), subjects: split };
}

/**
 * Subject-wise k folds: each stratum's subjects are shuffled (seeded) and dealt round-robin, the dealing
 * carried on from one stratum to the next, so every fold holds each group's subjects as evenly as they
 * divide and the folds' sizes differ by at most one. With k at least the number of subjects every subject
 * is its own fold (leave-one-subject-out) and the folds past the subjects are empty. Returns the subject ids
 * of each fold.
 */
export function foldSubjects(subjects: Subject[], k: number, seed: number, stratifyBy?: Stratify): string[][] {
  if (!Number.isInteger(k) || k < 2) throw new Error(`split: folds must be an integer ≥ 2, got ${k}`);
  const strata = strataOf(subjects, stratifyBy);
  const folds: string[][] = Array.from({ length: k }, () => []);
  const rng = new Rng(deriveSeed(seed, 0xf01d));
  let next = 0;
  for (const key of [...strata.keys()].sort()) {
    const members = strata.get(key)!.slice();
    rng.shuffle(members);
    for (const s of members) folds[next++ % k].push(s.id);
  }
  return folds;
}

export interface Fold {
  train: WindowSet;
  val: WindowSet;
  test: WindowSet;
}

/**
 * k-fold cross-validation by subject: fold f tests on its own subjects and trains on the others, of which a
 * share `valFraction` (stratified) is held out for validation. Every subject is tested exactly once.
 */
export function kFoldWindowSets(ws: WindowSet, k: number, valFraction: number, seed: number, stratifyBy?: Stratify): Fold[] {
  if (!(valFraction > 0 && valFraction < 1)) throw new Error(`split: the validation share of each fold's training subjects must be in (0, 1), got ${valFraction}`);
  const folds = foldSubjects(ws.subjects, k, seed, stratifyBy);
  return folds.map((testIds, f) => {
    const test = new Set(testIds);
    const rest = ws.subjects.filter((s) => !test.has(s.id));
    const inner = splitSubjects(rest, { train: 1 - valFraction, val: valFraction, test: 0 }, seed + 7919 * (f + 1), stratifyBy);
    const side = new Map<string, SplitName>();
    for (const id of inner.train) side.set(id, 'train');
    for (const id of inner.val) side.set(id, 'val');
    for (const id of testIds) side.set(id, 'test');
    const idx: Record<SplitName, number[]> = { train: [], val: [], test: [] };
    ws.subjectIndex.forEach((s, i) => idx[side.get(ws.subjects[s].id)!].push(i));
    const note = (split: SplitName) => ({ split, fold: f, folds: k, seed, valFraction, subjects: (split === 'test' ? testIds : inner[split]).length });
    return {
      train: subsetWindowSet(ws, idx.train, note('train')),
      val: subsetWindowSet(ws, idx.val, note('val')),
      test: subsetWindowSet(ws, idx.test, note('test')),
    };
  });
}
