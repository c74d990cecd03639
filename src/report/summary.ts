// The headline numbers per transfer and arm, shared by the terminal table and the HTML summary table.
// Seeds are replicates: the estimate is their mean, and the interval is the union (lowest lo, highest hi) of
// the seeds' bootstrap intervals, a deliberately conservative range that covers seed-to-seed variation as
// well as sampling over subjects. With one seed it is simply that seed's bootstrap interval.
import type { ExperimentResults } from '../experiment/results';
import { reportRecords, type ReportRecords, type TargetRecord } from './records';
import { uniqueInOrder } from './arms';
import { checkResults } from './validate';

export interface SummaryRow {
  pair: string;
  arm: string;
  seeds: number;
  mae: { estimate: number; lo: number; hi: number };
  gap: { estimate: number; lo: number; hi: number };
  /** Which groups were the worst, in how many seeds each: most often first (ties in group order). */
  worst: { group: string; seeds: number }[];
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function pooled(rows: readonly TargetRecord[], est: 'mae' | 'gap', lo: 'maeLo' | 'gapLo', hi: 'maeHi' | 'gapHi') {
  return { estimate: mean(rows.map((r) => r[est])), lo: Math.min(...rows.map((r) => r[lo])), hi: Math.max(...rows.map((r) => r[hi])) };
}

export function summaryRows(rec: ReportRecords): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const pair of uniqueInOrder(rec.targets.map((t) => t.pair))) {
    for (const arm of rec.arms.order) {
      const rows = rec.targets.filter((t) => t.pair === pair && t.arm === arm);
      if (rows.length === 0) continue;
      const counts = new Map<string, number>();
      for (const r of rows) counts.set(r.worstGroup, (counts.get(r.worstGroup) ?? 0) + 1);
      const order = uniqueInOrder([...rec.groupNames, ...counts.keys()]);
      const worst = order
        .filter((g) => counts.has(g))
        .map((g) => ({ group: g, seeds: counts.get(g)! }))
        .sort((a, b) => b.seeds - a.seeds || order.indexOf(a.group) - order.indexOf(b.group));
      out.push({ pair, arm, seeds: rows.length, mae: pooled(rows, 'mae', 'maeLo', 'maeHi'), gap: pooled(rows, 'gap', 'gapLo', 'gapHi'), worst });
    }
  }
  return out;
}

/** "F 2/2", or "F 1/2, M 1/2" when the seeds disagree. */
export function formatWorst(r: SummaryRow): string {
  return r.worst.map((w) => `${w.group} ${w.seeds}/${r.seeds}`).join(', ');
}

/** "1.23 [0.45, 2.10]" */
export function formatInterval(i: { estimate: number; lo: number; hi: number }, digits = 2): string {
  return `${i.estimate.toFixed(digits)} [${i.lo.toFixed(digits)}, ${i.hi.toFixed(digits)}]`;
}

/** The bootstrap confidence level of the results (the first target's; an experiment uses one level). */
export function bootstrapLevel(results: ExperimentResults): number | null {
  return results.cells.find((c) => c.targets.length > 0)?.targets[0].metrics.bootstrap.level ?? null;
}

/** Fixed-width plain-text summary for the terminal. */
export function summaryTable(results: ExperimentResults): string {
  checkResults(results);
  const rows = summaryRows(reportRecords(results));
  const header = ['source → target', 'strategy', 'seeds', 'MAE (bpm)', 'gap (bpm)', 'worst group (seeds)'];
  const body = rows.map((r) => [r.pair, r.arm, String(r.seeds), formatInterval(r.mae), formatInterval(r.gap), formatWorst(r)]);
  const lines: string[] = [];
  if (body.length === 0) {
    lines.push(`${results.name}: no finished cells`);
  } else {
    const widths = header.map((h, k) => Math.max(h.length, ...body.map((b) => b[k].length)));
    const fmt = (cells: string[]) => cells.map((c, k) => (k === 2 ? c.padStart(widths[k]) : c.padEnd(widths[k]))).join('  ').trimEnd();
    lines.push(fmt(header), widths.map((w) => '-'.repeat(w)).join('  '));
    for (const b of body) lines.push(fmt(b));
    const level = bootstrapLevel(results);
    lines.push('', `Estimates are means over seeds; brackets: union of the seeds' ${level === null ? '' : `${Math.round(level * 100)}% `}bootstrap intervals over subjects.`);
  }
  if (results.failed.length > 0) lines.push(`${results.failed.length} cell(s) failed: ${results.failed.map((f) => f.id).join(', ')}`);
  return lines.join('\n');
}
