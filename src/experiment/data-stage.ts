// The experiment's data: each domain generated (synthetic) or loaded (window-set file), windowed at the
// experiment's window length, split by subject into folds, and cached under runs/<name>/data so a resumed
// or re-reported experiment uses exactly the same windows. The protocol is one for the whole experiment:
// a holdout split (one fold) or subject-wise k-fold cross-validation (every subject tested once); 'auto'
// picks k-fold when a holdout test split would leave some group with too few subjects to say anything.
import * as fs from 'fs';
import * as path from 'path';
import { loadWindowSet, saveWindowSet, windowSetCachePath } from '../data/cache/windowset-file';
import { kFoldWindowSets, splitSubjects, splitWindowSet, type Fold } from '../data/split';
import { generateCohort } from '../data/synth/cohort';
import type { Subject, WindowSet } from '../data/types';
import { makeWindows } from '../data/windows';
import { buildGroups } from '../fairness/groups';
import type { ExperimentConfig } from './config';
import { writeJsonAtomic } from './cell-store';

export type Protocol = 'holdout' | 'kfold';

export interface DomainData {
  name: string;
  /** One fold for a holdout split; k for k-fold, where fold f tests on its own subjects. */
  folds: Fold[];
  /** Fold 0's sides: what pretraining reads (k-fold: subjects of fold 0's test side stay unseen). */
  train: WindowSet;
  val: WindowSet;
  test: WindowSet;
  manifest: Record<string, unknown>;
}

export interface PreparedData {
  protocol: Protocol;
  /** Why the protocol was chosen (for the log and the report). */
  reason: string;
  domains: Map<string, DomainData>;
}

function buildDomain(name: string, c: ExperimentConfig): WindowSet {
  const d = c.domains[name];
  if (d.kind === 'synthetic') {
    const cohort = generateCohort(d.preset, { seed: d.seed, subjects: d.subjects, seconds: d.seconds, recordings: d.recordings, matched: d.matched });
    return makeWindows(cohort.recordings, cohort.subjects, { domain: name, seconds: c.windowSeconds, manifest: cohort.manifest });
  }
  const ws = loadWindowSet(d.file);
  if (ws.length !== c.windowSeconds * ws.fs) {
    throw new Error(`domain ${name}: ${d.file} has windows of ${ws.length / ws.fs} s, the experiment uses ${c.windowSeconds} s`);
  }
  return { ...ws, domain: name };
}

/** The fairness group of each subject (intersections joined), the unit k-fold stratifies by. */
function groupLabeller(c: ExperimentConfig, subjects: readonly Subject[]): (s: Subject) => string {
  const g = buildGroups(new Int32Array(0), subjects, { attributes: c.groupBy.attributes, bands: c.groupBy.bands });
  const label = new Map(subjects.map((s, i) => [s.id, g.names[g.subjectGroup[i]]]));
  return (s) => label.get(s.id) ?? '';
}

/**
 * 'auto': k-fold when, in some domain, the holdout test split would hold fewer than minSubjectsPerGroup
 * subjects of a group that domain has. Returns the protocol and the reason.
 */
export function chooseProtocol(c: ExperimentConfig, all: ReadonlyMap<string, WindowSet>): [Protocol, string] {
  if (c.split.protocol !== 'auto') return [c.split.protocol, `split.protocol is '${c.split.protocol}'`];
  const min = c.evaluation.minSubjectsPerGroup;
  for (const [name, ws] of all) {
    const labelOf = groupLabeller(c, ws.subjects);
    const split = splitSubjects(ws.subjects, c.split, c.split.seed, c.groupBy.attributes[0]);
    const inTest = new Map<string, number>();
    for (const s of ws.subjects) inTest.set(labelOf(s), 0);
    const byId = new Map(ws.subjects.map((s) => [s.id, s]));
    for (const id of split.test) {
      const l = labelOf(byId.get(id)!);
      inTest.set(l, (inTest.get(l) ?? 0) + 1);
    }
    const short = [...inTest].filter(([, n]) => n < min);
    if (short.length > 0) {
      const what = short.map(([g, n]) => `${g}: ${n}`).join(', ');
      return ['kfold', `a holdout test split of ${name} would evaluate ${what} subject(s), fewer than ${min} per group`];
    }
  }
  return ['holdout', `every domain's holdout test split has at least ${min} subjects per group`];
}

function splitNames(protocol: Protocol, f: number): [string, string, string] {
  return protocol === 'holdout' ? ['train', 'val', 'test'] : [`fold${f}-train`, `fold${f}-val`, `fold${f}-test`];
}

export function prepareDomains(c: ExperimentConfig, dir: string, names: readonly string[], log: (s: string) => void = () => {}): PreparedData {
  const cacheDir = path.join(dir, 'data');
  fs.mkdirSync(cacheDir, { recursive: true });
  const planFile = path.join(cacheDir, 'split.json');
  let plan = fs.existsSync(planFile) ? (JSON.parse(fs.readFileSync(planFile, 'utf8')) as { protocol: Protocol; folds: number; reason: string }) : null;
  const cached = (name: string) => {
    if (plan === null) return false;
    for (let f = 0; f < plan.folds; f++) if (!splitNames(plan.protocol, f).every((s) => fs.existsSync(windowSetCachePath(cacheDir, name, s)))) return false;
    return true;
  };
  const missing = names.filter((n) => !cached(n));
  if (missing.length > 0) {
    const t0 = Date.now();
    const all = new Map(names.map((n) => [n, buildDomain(n, c)] as const));
    const [protocol, reason] = plan === null ? chooseProtocol(c, all) : [plan.protocol, plan.reason];
    // No fold may be empty: k is capped at the smallest domain's subject count (there, leave-one-subject-out).
    const fewest = Math.min(...[...all.values()].map((ws) => ws.subjects.length));
    plan = { protocol, folds: protocol === 'holdout' ? 1 : Math.min(c.split.folds, fewest), reason };
    for (const name of missing) {
      const ws = all.get(name)!;
      const folds: Fold[] = protocol === 'holdout'
        ? [splitWindowSet(ws, { train: c.split.train, val: c.split.val, test: c.split.test }, c.split.seed, c.groupBy.attributes[0])]
        : kFoldWindowSets(ws, plan.folds, c.split.val / (c.split.train + c.split.val), c.split.seed, groupLabeller(c, ws.subjects));
      folds.forEach((fold, f) => {
        const files = splitNames(protocol, f).map((s) => windowSetCachePath(cacheDir, name, s));
        [fold.train, fold.val, fold.test].forEach((s, i) => saveWindowSet(files[i], s));
      });
      log(`data ${name}: ${ws.hr.length} windows of ${c.windowSeconds} s from ${ws.subjects.length} subjects, ` +
        (protocol === 'holdout'
          ? `holdout (train ${folds[0].train.hr.length}, val ${folds[0].val.hr.length}, test ${folds[0].test.hr.length})`
          : `${folds.length}-fold by subject (test subjects per fold ${folds.map((f) => f.test.subjects.length).join('/')})`) +
        ` in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    writeJsonAtomic(planFile, plan);
  }
  log(`protocol: ${plan!.protocol === 'holdout' ? 'holdout split' : `${plan!.folds}-fold cross-validation by subject`} (${plan!.reason})`);
  return loadStoredDomains(c, dir, names);
}

/** The stored folds of every domain (what prepareDomains cached); throws naming the first missing file. */
export function loadStoredDomains(c: ExperimentConfig, dir: string, names: readonly string[]): PreparedData {
  const cacheDir = path.join(dir, 'data');
  const planFile = path.join(cacheDir, 'split.json');
  const missing = (f: string) => new Error(`experiment ${c.name}: the data is not stored (${f} is missing): run the experiment first`);
  if (!fs.existsSync(planFile)) throw missing(planFile);
  const { protocol, folds: k, reason } = JSON.parse(fs.readFileSync(planFile, 'utf8')) as { protocol: Protocol; folds: number; reason: string };
  const out = new Map<string, DomainData>();
  for (const name of names) {
    const folds: Fold[] = [];
    for (let f = 0; f < k; f++) {
      const [train, val, test] = splitNames(protocol, f).map((s) => {
        const file = windowSetCachePath(cacheDir, name, s);
        if (!fs.existsSync(file)) throw missing(file);
        return loadWindowSet(file);
      });
      for (const [side, s] of [['train', train], ['val', val]] as const) {
        if (s.hr.length === 0) throw new Error(`domain ${name}: the ${side} side of ${protocol === 'holdout' ? 'the split' : `fold ${f}`} has no windows (too few subjects)`);
      }
      if (protocol === 'holdout' && test.hr.length === 0) throw new Error(`domain ${name}: the test split has no windows (too few subjects for the split fractions)`);
      folds.push({ train, val, test });
    }
    out.set(name, { name, folds, train: folds[0].train, val: folds[0].val, test: folds[0].test, manifest: folds[0].train.manifest });
  }
  return { protocol, reason, domains: out };
}
