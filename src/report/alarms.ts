// Alarm fairness in the report (the paper's question 4): per transfer, strategy, seed and alarm kind, the
// gaps between groups in event sensitivity, false alarms per hour and time to alarm, beside the same cell's
// MAE gap, so a reader sees whether a strategy that narrows the MAE gap also narrows the alarm gaps.
import type { Interval } from '../fairness/metrics/bootstrap';
import type { ExperimentResults } from '../experiment/results';
import { toCsv, type CsvValue } from './csv';
import { armsOf, uniqueInOrder } from './arms';
import { pairLabel } from './records';

export interface AlarmRecord {
  cell: string;
  pair: string;
  source: string;
  target: string;
  arm: string;
  strategy: string;
  size: string;
  seed: number;
  kind: 'tachy' | 'brady';
  profile: string;
  /** "HR > 120, 2 of 3 windows" */
  rule: string;
  events: number;
  detected: number;
  sensitivity: number | null;
  falseAlarmsPerHour: number | null;
  sensitivityGap: Interval | null;
  falseAlarmGap: Interval | null;
  timeToAlarmGap: Interval | null;
  maeGap: Interval;
  perGroup: {
    group: string; subjects: number; hours: number; events: number; missed: number; sensitivity: Interval | null; falseAlarmsPerHour: Interval | null; timeToAlarmS: Interval | null;
    windowSensitivity: number | null; windowFalsePositiveRate: number | null;
  }[];
}

export function alarmRecords(results: Pick<ExperimentResults, 'cells'>): AlarmRecord[] {
  const arms = armsOf(results);
  const out: AlarmRecord[] = [];
  for (const c of results.cells) {
    for (const t of c.targets) {
      const a = t.alarms;
      if (!a) continue;
      for (const k of a.kinds) {
        out.push({
          cell: c.id, pair: pairLabel(c.source, t.target), source: c.source, target: t.target, arm: arms.labelOf(c), strategy: c.strategy, size: c.size, seed: c.seed,
          kind: k.kind, profile: a.profile,
          rule: `HR ${k.kind === 'tachy' ? '>' : '<'} ${k.threshold}, ${a.rule.n} of ${a.rule.m} windows`,
          events: k.overall.events, detected: k.overall.detected, sensitivity: k.overall.sensitivity, falseAlarmsPerHour: k.overall.falseAlarmsPerHour,
          sensitivityGap: k.gaps.sensitivity, falseAlarmGap: k.gaps.falseAlarmsPerHour, timeToAlarmGap: k.gaps.timeToAlarmS,
          maeGap: t.metrics.gap,
          perGroup: k.perGroup.map((g) => ({
            group: g.group, subjects: g.subjects, hours: g.hours, events: g.events, missed: g.missed, sensitivity: g.sensitivity, falseAlarmsPerHour: g.falseAlarmsPerHour,
            timeToAlarmS: g.timeToAlarmS, windowSensitivity: g.windowSensitivity, windowFalsePositiveRate: g.windowFalsePositiveRate,
          })),
        });
      }
    }
  }
  return out;
}

/** Seeds pooled like the summary table: the mean estimate and the union of the seeds' intervals. */
export function poolIntervals(xs: readonly (Interval | null)[]): Interval | null {
  const v = xs.filter((x): x is Interval => x !== null);
  if (v.length === 0) return null;
  return { estimate: v.reduce((a, x) => a + x.estimate, 0) / v.length, lo: Math.min(...v.map((x) => x.lo)), hi: Math.max(...v.map((x) => x.hi)) };
}

export interface AlarmSummaryRow {
  pair: string;
  arm: string;
  kind: 'tachy' | 'brady';
  rule: string;
  profile: string;
  seeds: number;
  events: number;
  /** Per group: mean sensitivity and false alarms per hour over the seeds. */
  groups: { group: string; sensitivity: number | null; falseAlarmsPerHour: number | null; missed: number }[];
  sensitivityGap: Interval | null;
  falseAlarmGap: Interval | null;
  timeToAlarmGap: Interval | null;
  maeGap: Interval | null;
}

export function alarmSummaryRows(records: readonly AlarmRecord[], armOrder: readonly string[]): AlarmSummaryRow[] {
  const out: AlarmSummaryRow[] = [];
  const meanOf = (xs: (number | null)[]): number | null => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
  };
  for (const pair of uniqueInOrder(records.map((r) => r.pair))) {
    for (const kind of ['tachy', 'brady'] as const) {
      for (const arm of armOrder) {
        const rows = records.filter((r) => r.pair === pair && r.kind === kind && r.arm === arm);
        if (rows.length === 0) continue;
        const groups = uniqueInOrder(rows.flatMap((r) => r.perGroup.map((g) => g.group)));
        out.push({
          pair, arm, kind, rule: rows[0].rule, profile: rows[0].profile, seeds: rows.length,
          events: rows.reduce((a, r) => a + r.events, 0) / rows.length,
          groups: groups.map((group) => {
            const gs = rows.map((r) => r.perGroup.find((g) => g.group === group)).filter((g) => g !== undefined);
            return {
              group,
              sensitivity: meanOf(gs.map((g) => g.sensitivity?.estimate ?? null)),
              falseAlarmsPerHour: meanOf(gs.map((g) => g.falseAlarmsPerHour?.estimate ?? null)),
              missed: gs.reduce((a, g) => a + g.missed, 0) / gs.length,
            };
          }),
          sensitivityGap: poolIntervals(rows.map((r) => r.sensitivityGap)),
          falseAlarmGap: poolIntervals(rows.map((r) => r.falseAlarmGap)),
          timeToAlarmGap: poolIntervals(rows.map((r) => r.timeToAlarmGap)),
          maeGap: poolIntervals(rows.map((r) => r.maeGap)),
        });
      }
    }
  }
  return out;
}

/**
 * alarms.csv: one row per cell × target × alarm kind × (gap | group); seeds are separate rows. Gap rows hold
 * the max − min over groups in the metric columns, with the target's event and hour totals; group rows the
 * group's own values, including the window-level sensitivity and false-positive rate.
 */
export function alarmsCsv(results: Pick<ExperimentResults, 'cells'>): string {
  const header = [
    'cell_id', 'source', 'target', 'strategy', 'size', 'seed', 'kind', 'profile', 'rule', 'scope', 'group', 'subjects', 'hours', 'events', 'missed',
    'sensitivity', 'sensitivity_lo', 'sensitivity_hi', 'false_alarms_per_hour', 'false_alarms_per_hour_lo', 'false_alarms_per_hour_hi',
    'time_to_alarm_s', 'time_to_alarm_s_lo', 'time_to_alarm_s_hi', 'window_sensitivity', 'window_false_positive_rate', 'mae_gap', 'mae_gap_lo', 'mae_gap_hi',
  ];
  const iv = (x: Interval | null): CsvValue[] => (x ? [x.estimate, x.lo, x.hi] : ['', '', '']);
  const rows: CsvValue[][] = [];
  for (const r of alarmRecords(results)) {
    const base: CsvValue[] = [r.cell, r.source, r.target, r.strategy, r.size, r.seed, r.kind, r.profile, r.rule];
    // The overall row carries the gaps (max − min over groups) in the metric columns.
    const hours = r.perGroup.reduce((a, g) => a + g.hours, 0);
    rows.push([...base, 'gap', '', '', hours, r.events, r.events - r.detected, ...iv(r.sensitivityGap), ...iv(r.falseAlarmGap), ...iv(r.timeToAlarmGap), '', '', ...iv(r.maeGap)]);
    for (const g of r.perGroup) {
      rows.push([
        ...base, 'group', g.group, g.subjects, g.hours, g.events, g.missed, ...iv(g.sensitivity), ...iv(g.falseAlarmsPerHour), ...iv(g.timeToAlarmS),
        g.windowSensitivity ?? '', g.windowFalsePositiveRate ?? '', '', '', '',
      ]);
    }
  }
  return toCsv(header, rows);
}
