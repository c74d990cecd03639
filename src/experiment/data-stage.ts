// The experiment's data: each domain generated (synthetic) or loaded (window-set file), windowed at the
// experiment's window length, split by subject, and cached under runs/<name>/data so a resumed or
// re-reported experiment uses exactly the same windows.
import * as fs from 'fs';
import * as path from 'path';
import { loadWindowSet, saveWindowSet, windowSetCachePath } from '../data/cache/windowset-file';
import { splitWindowSet } from '../data/split';
import { generateCohort } from '../data/synth/cohort';
import type { WindowSet } from '../data/types';
import { makeWindows } from '../data/windows';
import type { ExperimentConfig } from './config';

export interface DomainData {
  name: string;
  train: WindowSet;
  val: WindowSet;
  test: WindowSet;
  manifest: Record<string, unknown>;
}

function buildDomain(name: string, c: ExperimentConfig): WindowSet {
  const d = c.domains[name];
  if (d.kind === 'synthetic') {
    const cohort = generateCohort(d.preset, { seed: d.seed, subjects: d.subjects, seconds: d.seconds, recordings: d.recordings });
    return makeWindows(cohort.recordings, cohort.subjects, { domain: name, seconds: c.windowSeconds, manifest: cohort.manifest });
  }
  const ws = loadWindowSet(d.file);
  if (ws.length !== c.windowSeconds * ws.fs) {
    throw new Error(`domain ${name}: ${d.file} has windows of ${ws.length / ws.fs} s, the experiment uses ${c.windowSeconds} s`);
  }
  return { ...ws, domain: name };
}

export function prepareDomains(c: ExperimentConfig, dir: string, names: readonly string[], log: (s: string) => void = () => {}): Map<string, DomainData> {
  const cacheDir = path.join(dir, 'data');
  fs.mkdirSync(cacheDir, { recursive: true });
  const out = new Map<string, DomainData>();
  for (const name of names) {
    const files = (['train', 'val', 'test'] as const).map((s) => windowSetCachePath(cacheDir, name, s));
    let sets: WindowSet[];
    if (files.every((f) => fs.existsSync(f))) {
      sets = files.map((f) => loadWindowSet(f));
    } else {
      const t0 = Date.now();
      const all = buildDomain(name, c);
      const split = splitWindowSet(all, { train: c.split.train, val: c.split.val, test: c.split.test }, c.split.seed, c.groupBy.attributes[0]);
      sets = [split.train, split.val, split.test];
      sets.forEach((s, i) => saveWindowSet(files[i], s));
      log(`data ${name}: ${all.hr.length} windows of ${c.windowSeconds} s from ${all.subjects.length} subjects ` +
        `(train ${split.train.hr.length}, val ${split.val.hr.length}, test ${split.test.hr.length}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    const [train, val, test] = sets;
    for (const [k, s] of [['train', train], ['val', val], ['test', test]] as const) {
      if (s.hr.length === 0) throw new Error(`domain ${name}: the ${k} split has no windows (too few subjects for the split fractions)`);
    }
    out.set(name, { name, train, val, test, manifest: train.manifest });
  }
  return out;
}
