// The report's findings: for each transfer (size, source → target) and mitigation strategy, how much the
// strategy changed the fairness gap and the MAE against plain ERM, with a paired subject-bootstrap interval.
// Paired: both arms were tested on the same subjects with the same seeds, so each bootstrap replicate draws
// one set of subjects (with replacement, within each group) and recomputes both arms on it; subject-to-
// subject variation common to both arms then cancels, which an unpaired comparison of two intervals cannot
// do. A change whose interval excludes zero gets a plain sentence. Nothing here is written by hand: it is all
// computed from the cells' per-subject error sums.
import type { CellResult, ExperimentResults } from '../experiment/results';
import { quantileSorted, type Interval } from '../fairness/metrics/bootstrap';
import type { SubjectErrors } from '../fairness/metrics/subject-errors';
import { STREAM, streamRng } from '../train/sampling';

/**
 * Below this many evaluated subjects in a group, a transfer's group comparison says nothing: the default,
 * for results whose config does not set evaluation.minSubjectsPerGroup (the experiment config's own default).
 */
export const MIN_SUBJECTS_PER_GROUP = 5;
const BASELINE = 'erm';

export interface Finding {
  size: string;
  source: string;
  target: string;
  /** The strategy (with its hyper-parameters when the experiment has several). */
  arm: string;
  strategy: string;
  /** Seeds present for both the strategy and ERM. */
  seeds: number[];
  subjects: number;
  /** Change against ERM (strategy − ERM), bpm, averaged over the paired seeds: negative narrows / lowers. */
  gapChange: Interval;
  maeChange: Interval;
  /** A sentence for the changes whose interval excludes zero; null when neither does. */
  sentence: string | null;
}

export interface TooSmall {
  size: string;
  source: string;
  target: string;
  /** Evaluated subjects per group in the target's test split. */
  groups: { group: string; subjects: number }[];
}

export interface Findings {
  baseline: string;
  level: number;
  resamples: number;
  minSubjectsPerGroup: number;
  findings: Finding[];
  /** Transfers whose groups were too small to compare (no finding is stated for them). */
  tooSmall: TooSmall[];
  /** Transfers that could not be compared, with the reason (no ERM cell, no per-subject errors …). */
  skipped: { size: string; source: string; target: string; arm: string; reason: string }[];
}

const NAMES: Record<string, string> = { erm: 'ERM', if: 'IF', groupdro: 'GroupDRO', 'groupdro-paper': 'GroupDRO (paper variant)', adv: 'ADV' };

const paramsText = (c: CellResult) => Object.keys(c.params).sort().map((k) => `${k}=${c.params[k]}`).join(' ');

/** The strategy, with its hyper-parameters only where the experiment ran it with several settings. */
function armNamer(cells: readonly CellResult[]): (c: CellResult) => string {
  const settings = new Map<string, Set<string>>();
  for (const c of cells) {
    if (!settings.has(c.strategy)) settings.set(c.strategy, new Set());
    settings.get(c.strategy)!.add(paramsText(c));
  }
  return (c) => ((settings.get(c.strategy)?.size ?? 0) > 1 && paramsText(c) ? `${c.strategy} ${paramsText(c)}` : c.strategy);
}

function errorsOf(c: CellResult, target: string): SubjectErrors[] | undefined {
  return c.targets.find((t) => t.target === target)?.subjectErrors;
}

/** Per subject, in one fixed order: group index, windows, and for each (arm, seed) the absolute-error sum. */
interface Paired {
  groupOf: Int32Array;
  windows: Float64Array;
  /** [arm 0 = baseline, 1 = strategy][seed] → Float64Array over subjects. */
  err: Float64Array[][];
  groups: string[];
}

function pair(base: SubjectErrors[][], other: SubjectErrors[][]): Paired | string {
  const ref = base[0];
  const ids = ref.map((s) => s.subject);
  const groups = [...new Set(ref.map((s) => s.group))].sort();
  const index = new Map(ids.map((id, i) => [id, i]));
  const arrange = (list: SubjectErrors[]): Float64Array | string => {
    if (list.length !== ids.length) return `the arms were tested on ${ids.length} and ${list.length} subjects`;
    const out = new Float64Array(ids.length);
    for (const s of list) {
      const i = index.get(s.subject);
      if (i === undefined || ref[i].group !== s.group || ref[i].windows !== s.windows) return `subject ${s.subject} differs between the arms`;
      out[i] = s.absErrorSum;
    }
    return out;
  };
  const err: Float64Array[][] = [];
  for (const arm of [base, other]) {
    const row: Float64Array[] = [];
    for (const list of arm) {
      const a = arrange(list);
      if (typeof a === 'string') return a;
      row.push(a);
    }
    err.push(row);
  }
  return {
    groupOf: Int32Array.from(ref, (s) => groups.indexOf(s.group)),
    windows: Float64Array.from(ref, (s) => s.windows),
    err, groups,
  };
}

/** (gap, MAE) of one arm, averaged over seeds, with subject j counted w[j] times. */
function armMetrics(p: Paired, arm: number, w: Float64Array): [number, number] {
  const G = p.groups.length;
  let gapSum = 0, maeSum = 0;
  for (const e of p.err[arm]) {
    const num = new Float64Array(G), den = new Float64Array(G);
    let tn = 0, td = 0;
    for (let j = 0; j < w.length; j++) {
      if (w[j] === 0) continue;
      num[p.groupOf[j]] += w[j] * e[j];
      den[p.groupOf[j]] += w[j] * p.windows[j];
      tn += w[j] * e[j];
      td += w[j] * p.windows[j];
    }
    let lo = Infinity, hi = -Infinity;
    for (let g = 0; g < G; g++) {
      const m = num[g] / den[g];
      lo = Math.min(lo, m);
      hi = Math.max(hi, m);
    }
    gapSum += hi - lo;
    maeSum += tn / td;
  }
  const n = p.err[arm].length;
  return [gapSum / n, maeSum / n];
}

function pairedBootstrap(p: Paired, resamples: number, level: number, seed: number): { gap: Interval; mae: Interval } {
  const n = p.groupOf.length;
  const members = p.groups.map((_, g) => [...p.groupOf.keys()].filter((j) => p.groupOf[j] === g));
  const change = (w: Float64Array): [number, number] => {
    const [g0, m0] = armMetrics(p, 0, w), [g1, m1] = armMetrics(p, 1, w);
    return [g1 - g0, m1 - m0];
  };
  const [gap, mae] = change(new Float64Array(n).fill(1));
  const rng = streamRng(seed, STREAM.findings);
  const gaps = new Float64Array(resamples), maes = new Float64Array(resamples);
  const w = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    w.fill(0);
    // Within each group, as many draws as it has subjects: every replicate keeps every group.
    for (const m of members) for (let k = 0; k < m.length; k++) w[m[rng.int(m.length)]]++;
    [gaps[r], maes[r]] = change(w);
  }
  gaps.sort();
  maes.sort();
  const a = (1 - level) / 2;
  return {
    gap: { estimate: gap, lo: quantileSorted(gaps, a), hi: quantileSorted(gaps, 1 - a) },
    mae: { estimate: mae, lo: quantileSorted(maes, a), hi: quantileSorted(maes, 1 - a) },
  };
}

const excludesZero = (i: Interval) => i.lo > 0 || i.hi < 0;
const bpm = (v: number) => `${Math.abs(v).toFixed(1)} bpm`;
const ci = (i: Interval, sign = 1) => {
  const [a, b] = [sign * i.lo, sign * i.hi].sort((x, y) => x - y);
  return `[${a.toFixed(1)}, ${b.toFixed(1)}]`;
};

/** "GroupDRO narrowed the gap on butppg-like → dalia-like by 1.3 bpm [0.6, 2.0] at a cost of 0.6 bpm MAE". */
export function findingSentence(f: Pick<Finding, 'strategy' | 'arm' | 'source' | 'target' | 'size' | 'gapChange' | 'maeChange'>, sizes = 1): string | null {
  const name = (NAMES[f.strategy] ?? f.strategy) + f.arm.slice(f.strategy.length);
  const where = `${f.source} → ${f.target}${sizes > 1 ? ` (${f.size})` : ''}`;
  const g = f.gapChange, m = f.maeChange;
  const maeSide = excludesZero(m)
    ? m.estimate > 0 ? `at a cost of ${bpm(m.estimate)} MAE ${ci(m)}` : `while lowering MAE by ${bpm(m.estimate)} ${ci(m, -1)}`
    : `with no clear change in MAE (${m.estimate >= 0 ? '+' : '−'}${bpm(m.estimate)} ${ci(m)})`;
  if (excludesZero(g)) {
    const verb = g.estimate < 0 ? 'narrowed' : 'widened';
    return `${name} ${verb} the gap on ${where} by ${bpm(g.estimate)} ${ci(g, g.estimate < 0 ? -1 : 1)} ${maeSide}.`;
  }
  if (excludesZero(m)) {
    const verb = m.estimate > 0 ? 'raised' : 'lowered';
    return `${name} ${verb} MAE on ${where} by ${bpm(m.estimate)} ${ci(m, m.estimate < 0 ? -1 : 1)} with no clear change in the gap.`;
  }
  return null;
}

export function computeFindings(results: Pick<ExperimentResults, 'cells'> & { config?: Record<string, unknown> }, opts: { resamples?: number; level?: number; seed?: number } = {}): Findings {
  const evaluation = (results.config?.evaluation ?? {}) as { bootstrap?: number; minSubjectsPerGroup?: number };
  const resamples = opts.resamples ?? evaluation.bootstrap ?? 1000, level = opts.level ?? 0.95, seed = opts.seed ?? 0;
  const minSubjects = evaluation.minSubjectsPerGroup ?? MIN_SUBJECTS_PER_GROUP;
  const out: Findings = { baseline: BASELINE, level, resamples, minSubjectsPerGroup: minSubjects, findings: [], tooSmall: [], skipped: [] };
  const sizes = new Set(results.cells.map((c) => c.size)).size;
  // (size, source) → arm → seed → cell
  const byTransfer = new Map<string, Map<string, Map<number, CellResult>>>();
  const armOf = armNamer(results.cells);
  for (const c of results.cells) {
    const k = JSON.stringify([c.size, c.source]);
    if (!byTransfer.has(k)) byTransfer.set(k, new Map());
    const arms = byTransfer.get(k)!;
    if (!arms.has(armOf(c))) arms.set(armOf(c), new Map());
    arms.get(armOf(c))!.set(c.seed, c);
  }
  for (const [k, arms] of byTransfer) {
    const [size, source] = JSON.parse(k) as [string, string];
    const base = [...arms.entries()].filter(([arm]) => arm.split(' ')[0] === BASELINE);
    const targets = [...new Set([...arms.values()].flatMap((m) => [...m.values()].flatMap((c) => c.targets.map((t) => t.target))))].sort();
    for (const target of targets) {
      // Group sizes of the target's test split, from any cell that recorded them.
      const any = [...arms.values()].flatMap((m) => [...m.values()]).map((c) => errorsOf(c, target)).find((e) => e !== undefined);
      if (any) {
        const counts = new Map<string, number>();
        for (const s of any) counts.set(s.group, (counts.get(s.group) ?? 0) + 1);
        const groups = [...counts.entries()].sort().map(([group, subjects]) => ({ group, subjects }));
        if (groups.some((g) => g.subjects < minSubjects) || groups.length < 2) {
          out.tooSmall.push({ size, source, target, groups });
          continue;
        }
      }
      for (const [arm, cells] of arms) {
        const strategy = arm.split(' ')[0];
        if (strategy === BASELINE) continue;
        const skip = (reason: string) => out.skipped.push({ size, source, target, arm, reason });
        if (base.length !== 1) {
          skip(base.length === 0 ? 'no ERM cell to compare with' : 'several ERM settings: the baseline is ambiguous');
          continue;
        }
        const ermCells = base[0][1];
        const seeds = [...cells.keys()].filter((s) => ermCells.has(s)).sort((a, b) => a - b);
        if (seeds.length === 0) {
          skip('no seed shared with ERM');
          continue;
        }
        const e = seeds.map((s) => errorsOf(ermCells.get(s)!, target)), x = seeds.map((s) => errorsOf(cells.get(s)!, target));
        if (e.some((v) => v === undefined) || x.some((v) => v === undefined)) {
          skip('no per-subject errors recorded (results written before they were)');
          continue;
        }
        const p = pair(e as SubjectErrors[][], x as SubjectErrors[][]);
        if (typeof p === 'string') {
          skip(p);
          continue;
        }
        const b = pairedBootstrap(p, resamples, level, seed);
        const f: Finding = { size, source, target, arm, strategy, seeds, subjects: p.groupOf.length, gapChange: b.gap, maeChange: b.mae, sentence: null };
        f.sentence = findingSentence(f, sizes);
        out.findings.push(f);
      }
    }
  }
  return out;
}
