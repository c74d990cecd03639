// The plain HTML tables of the report: the summary per transfer and arm, the failed cells, the
// configuration and the data manifests. Every value is escaped.
import type { ExperimentResults } from '../experiment/results';
import { escapeHtml } from './escape';
import type { ReportRecords } from './records';
import { costRows } from './cost';
import { alarmRecords, alarmSummaryRows } from './alarms';
import { bootstrapLevel, formatInterval, formatWorst, summaryRows } from './summary';

function table(header: readonly string[], rows: readonly (readonly string[])[], numericCols: readonly number[] = []): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((c, k) => `<td${numericCols.includes(k) ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

export function summaryHtml(results: ExperimentResults, rec: ReportRecords): string {
  const rows = summaryRows(rec);
  if (rows.length === 0) return '<p class="empty">No finished cells.</p>';
  const level = bootstrapLevel(results);
  const lvl = level === null ? '' : `${Math.round(level * 100)}% `;
  return (
    table(
      ['source → target', 'strategy', 'seeds', 'MAE (bpm)', 'gap (bpm)', 'worst group (seeds)'],
      rows.map((r) => [r.pair, r.arm, String(r.seeds), formatInterval(r.mae), formatInterval(r.gap), formatWorst(r)]),
      [2, 3, 4],
    ) + `\n<p class="note">Estimates are means over seeds; brackets are the union of the seeds' ${escapeHtml(lvl)}bootstrap intervals over subjects.</p>`
  );
}

const fmt = (v: number | null, digits = 1, suffix = ''): string => (v === null || !Number.isFinite(v) ? '–' : `${v.toFixed(digits)}${suffix}`);

/** The cost of each strategy per model size (report/cost.ts). */
export function costHtml(results: ExperimentResults): string {
  const rows = costRows(results);
  if (rows.length === 0) return '<p class="empty">No finished cells.</p>';
  return table(
    ['size', 'mode', 'strategy', 'cells', 's per cell', 'strategy work (s)', 'windows/s', 'peak RSS (MiB)', 'overhead vs ERM', 'Δ gap vs ERM (bpm)', 'Δ gap per extra minute'],
    rows.map((r) => [
      r.size, r.mode, r.strategy, String(r.cells), fmt(r.seconds), fmt(r.strategySeconds, 2), fmt(r.windowsPerSecond, 0), fmt(r.peakRssMiB, 0),
      r.overhead === null ? '–' : `${(100 * r.overhead).toFixed(0)}%`, fmt(r.gapChange, 2), fmt(r.gapChangePerExtraMinute, 2),
    ]),
    [3, 4, 5, 6, 7, 8, 9, 10],
  );
}

/** Alarm fairness per transfer, alarm kind and strategy (report/alarms.ts): seeds pooled like the summary. */
export function alarmsHtml(results: ExperimentResults, rec: ReportRecords): string {
  const rows = alarmSummaryRows(alarmRecords(results), rec.arms.order);
  if (rows.length === 0) return '';
  const iv = (x: { estimate: number; lo: number; hi: number } | null, digits = 2): string => (x === null ? '–' : formatInterval(x, digits));
  const perGroup = (r: (typeof rows)[number], f: (g: (typeof rows)[number]['groups'][number]) => number | null, digits: number): string =>
    r.groups.map((g) => `${g.group} ${fmt(f(g), digits)}`).join(' · ');
  return (
    table(
      ['source → target', 'alarm (profile)', 'strategy', 'seeds', 'reference events', 'sensitivity per group', 'sensitivity gap', 'false alarms/h per group', 'false alarms/h gap', 'time-to-alarm gap (s)', 'MAE gap (bpm)'],
      rows.map((r) => [
        r.pair, `${r.rule} (${r.profile})`, r.arm, String(r.seeds), fmt(r.events, 1),
        perGroup(r, (g) => g.sensitivity, 2), iv(r.sensitivityGap), perGroup(r, (g) => g.falseAlarmsPerHour, 1), iv(r.falseAlarmGap, 1), iv(r.timeToAlarmGap, 0), iv(r.maeGap),
      ]),
      [3, 4, 6, 8, 9, 10],
    ) +
    '\n<p class="note">Estimates are means over seeds; brackets are the union of the seeds’ bootstrap intervals over subjects. A gap is max − min over the groups where it is defined: – when fewer than two groups had a reference event (sensitivity, time to alarm). Per-group values for every seed are in alarms.csv.</p>'
  );
}

export function failedHtml(results: ExperimentResults): string {
  if (results.failed.length === 0) return '';
  return `<h3>Failed cells (${results.failed.length})</h3>\n` + table(['cell', 'error'], results.failed.map((f) => [f.id, f.error]));
}

export function configHtml(results: ExperimentResults): string {
  return `<pre class="config">${escapeHtml(JSON.stringify(results.config, null, 2))}</pre>`;
}

interface Counts {
  windows: number;
  subjects: number;
  perGroup: Record<string, Record<string, { windows: number; subjects: number }>>;
}

/** The manifest's `counts` entry (written by countsPerGroup) when it has the expected shape. */
function countsOf(manifest: Record<string, unknown>): Counts | null {
  const c = manifest.counts as Partial<Counts> | undefined;
  if (!c || typeof c !== 'object' || typeof c.perGroup !== 'object' || c.perGroup === null) return null;
  for (const values of Object.values(c.perGroup)) {
    if (typeof values !== 'object' || values === null) return null;
    for (const v of Object.values(values)) if (typeof v?.windows !== 'number' || typeof v?.subjects !== 'number') return null;
  }
  return c as Counts;
}

function scalarText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function manifestsHtml(results: ExperimentResults): string {
  const domains = Object.keys(results.manifests);
  if (domains.length === 0) return '<p class="empty">No data manifests.</p>';
  const countRows: string[][] = [];
  const otherRows: string[][] = [];
  for (const d of domains) {
    const m = results.manifests[d];
    const counts = countsOf(m);
    if (counts) {
      for (const [attr, values] of Object.entries(counts.perGroup)) {
        for (const [group, v] of Object.entries(values)) countRows.push([d, attr, group, String(v.windows), String(v.subjects)]);
      }
      countRows.push([d, 'all', '', String(counts.windows), String(counts.subjects)]);
    }
    for (const [k, v] of Object.entries(m)) {
      if (k === 'counts' && counts) continue;
      // The ground-truth episode list is long (results.json keeps it); the page gives its counts.
      if (k === 'episodes' && Array.isArray(v)) {
        const n = (kind: string) => v.filter((e) => (e as { kind?: string }).kind === kind).length;
        otherRows.push([d, k, `${v.length} synthetic HR episodes: ${n('tachy')} tachycardia, ${n('brady')} bradycardia (list in results.json)`]);
        continue;
      }
      otherRows.push([d, k, scalarText(v)]);
    }
  }
  let html = '';
  if (countRows.length > 0) html += `<h3>Windows and subjects per group</h3>\n${table(['domain', 'attribute', 'group', 'windows', 'subjects'], countRows, [3, 4])}\n`;
  if (otherRows.length > 0) html += `<h3>Manifest entries</h3>\n${table(['domain', 'key', 'value'], otherRows)}`;
  return html;
}
