// What is in a WindowSet: counts, HR distribution overall and per group, per-subject rows. Used by
// `fairtune data inspect`, by the cache manifest (counts per group) and by reports.
import { Attributes, WindowSet } from './types';

/** Attributes treated as groups even when stored as numbers. */
const CATEGORICAL_NUMERIC = new Set(['skin']);

/** The attributes a study can group by: every string-valued attribute, plus skin type. */
export function groupAttributes(ws: Pick<WindowSet, 'subjects'>): string[] {
  const names = new Set<string>();
  for (const s of ws.subjects) {
    for (const [k, v] of Object.entries(s.attributes)) if (typeof v === 'string' || CATEGORICAL_NUMERIC.has(k)) names.add(k);
  }
  return [...names].sort();
}

export function groupValue(attrs: Attributes, name: string): string {
  const v = attrs[name];
  return v === undefined || v === '' ? 'unknown' : String(v);
}

export interface GroupCount {
  windows: number;
  subjects: number;
}

/** Windows and subjects per value of each group attribute. */
export function countsPerGroup(ws: WindowSet, attributes = groupAttributes(ws)): {
  windows: number;
  subjects: number;
  perGroup: Record<string, Record<string, GroupCount>>;
} {
  const perSubjectWindows = new Array<number>(ws.subjects.length).fill(0);
  for (const s of ws.subjectIndex) perSubjectWindows[s]++;
  const perGroup: Record<string, Record<string, GroupCount>> = {};
  for (const a of attributes) {
    const m: Record<string, GroupCount> = {};
    ws.subjects.forEach((s, i) => {
      const g = groupValue(s.attributes, a);
      m[g] ??= { windows: 0, subjects: 0 };
      m[g].windows += perSubjectWindows[i];
      if (perSubjectWindows[i] > 0) m[g].subjects++;
    });
    perGroup[a] = m;
  }
  return { windows: ws.hr.length, subjects: perSubjectWindows.filter((c) => c > 0).length, perGroup };
}

export interface HrStats {
  count: number;
  mean: number;
  sd: number;
  min: number;
  median: number;
  max: number;
}

export function hrStats(values: ArrayLike<number>): HrStats {
  const v = Array.from(values).sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return { count: 0, mean: NaN, sd: NaN, min: NaN, median: NaN, max: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  const median = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return { count: n, mean, sd, min: v[0], median, max: v[n - 1] };
}

/** HR histogram bin edges in bpm: 30, 40, …, 210 (18 bins); values outside go to the end bins. */
export const HR_BIN_EDGES: number[] = Array.from({ length: 19 }, (_, i) => 30 + 10 * i);

export function hrHistogram(values: ArrayLike<number>): number[] {
  const bins = new Array<number>(HR_BIN_EDGES.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const k = Math.floor((values[i] - HR_BIN_EDGES[0]) / 10);
    bins[Math.min(bins.length - 1, Math.max(0, k))]++;
  }
  return bins;
}

export interface GroupSummary extends GroupCount {
  hr: HrStats;
  histogram: number[];
}

export interface SubjectSummary {
  id: string;
  attributes: Attributes;
  windows: number;
  meanHr: number;
}

export interface WindowSetSummary {
  domain: string;
  fs: number;
  length: number;
  windowSeconds: number;
  windows: number;
  subjects: number;
  hr: HrStats;
  histogramEdges: number[];
  histogram: number[];
  groups: Record<string, Record<string, GroupSummary>>;
  perSubject: SubjectSummary[];
  manifest: Record<string, unknown>;
  /** Whether each window's recording and start are known (WindowSet.times). */
  hasTimes: boolean;
}

export function summarizeWindowSet(ws: WindowSet): WindowSetSummary {
  const bySubject: number[][] = ws.subjects.map(() => []);
  ws.subjectIndex.forEach((s, i) => bySubject[s].push(ws.hr[i]));
  const groups: Record<string, Record<string, GroupSummary>> = {};
  for (const a of groupAttributes(ws)) {
    const vals: Record<string, { hr: number[]; subjects: number }> = {};
    ws.subjects.forEach((s, i) => {
      const g = groupValue(s.attributes, a);
      vals[g] ??= { hr: [], subjects: 0 };
      vals[g].hr.push(...bySubject[i]);
      if (bySubject[i].length > 0) vals[g].subjects++;
    });
    groups[a] = {};
    for (const g of Object.keys(vals).sort()) {
      groups[a][g] = { windows: vals[g].hr.length, subjects: vals[g].subjects, hr: hrStats(vals[g].hr), histogram: hrHistogram(vals[g].hr) };
    }
  }
  return {
    domain: ws.domain,
    fs: ws.fs,
    length: ws.length,
    windowSeconds: ws.length / ws.fs,
    windows: ws.hr.length,
    subjects: bySubject.filter((b) => b.length > 0).length,
    hr: hrStats(ws.hr),
    histogramEdges: HR_BIN_EDGES,
    histogram: hrHistogram(ws.hr),
    groups,
    perSubject: ws.subjects.map((s, i) => ({
      id: s.id,
      attributes: s.attributes,
      windows: bySubject[i].length,
      meanHr: bySubject[i].length ? bySubject[i].reduce((a, b) => a + b, 0) / bySubject[i].length : NaN,
    })),
    manifest: ws.manifest,
    hasTimes: ws.times !== undefined,
  };
}

const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');

/** Human-readable text for the terminal. */
export function formatSummary(s: WindowSetSummary): string {
  const lines: string[] = [];
  lines.push(`domain ${s.domain}: ${s.windows} windows of ${s.windowSeconds} s (${s.length} samples at ${s.fs} Hz), ${s.subjects} subjects`);
  lines.push(`HR bpm: mean ${f1(s.hr.mean)} sd ${f1(s.hr.sd)} min ${f1(s.hr.min)} median ${f1(s.hr.median)} max ${f1(s.hr.max)}`);
  for (const [a, groups] of Object.entries(s.groups)) {
    lines.push(`by ${a}:`);
    for (const [g, v] of Object.entries(groups)) {
      lines.push(`  ${g.padEnd(10)} ${String(v.windows).padStart(6)} windows ${String(v.subjects).padStart(4)} subjects  HR ${f1(v.hr.mean)} ± ${f1(v.hr.sd)}`);
    }
  }
  lines.push('subjects:');
  for (const p of s.perSubject) {
    const attrs = Object.entries(p.attributes).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push(`  ${p.id.padEnd(10)} ${String(p.windows).padStart(5)} windows  mean HR ${f1(p.meanHr)}  ${attrs}`);
  }
  // Ground-truth HR episodes of a synthetic cohort (the alarm evaluation's events).
  const episodes = s.manifest.episodes;
  if (Array.isArray(episodes)) {
    const n = (kind: string) => episodes.filter((e) => (e as { kind?: unknown }).kind === kind).length;
    lines.push(`HR episodes: ${n('tachy')} tachycardia, ${n('brady')} bradycardia (ground truth in the manifest)`);
  }
  lines.push(s.hasTimes ? 'window times: recorded (alarm evaluation possible)' : 'window times: not recorded (re-import to evaluate alarms)');
  // What the import dropped and why (label quality checks, gaps, unreadable segments), as the loader said it.
  const report = s.manifest.loaderReport;
  if (Array.isArray(report) && report.length > 0) {
    lines.push('import report:');
    for (const line of report) lines.push(`  ${String(line)}`);
  }
  return lines.join('\n');
}
