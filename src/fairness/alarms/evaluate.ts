// Alarm fairness of one target: per group and alarm kind (tachycardia above `high`, bradycardia below
// `low`) the event sensitivity, false alarms per hour of monitoring, missed events and time to alarm, the
// window-level sensitivity and false-positive rate, and the gaps between groups (max − min over the
// groups where the metric is defined), each with a subject-bootstrap interval (subjects resampled within
// their group, as for the MAE). Reference events come from the reference HR under the same rule.
import { percentileInterval, type Interval } from '../metrics/bootstrap';
import { streamRng, STREAM } from '../../train/sampling';
import { checkPositiveInt, checkPredictions, checkSameLength, checkSeed } from '../../util/array-checks';
import { alarmEvents, coveredSeconds, matchEvents } from './events';
import type { AlarmRule } from './rules';

export type AlarmKind = 'tachy' | 'brady';
export const ALARM_KINDS: readonly AlarmKind[] = ['tachy', 'brady'];

export interface AlarmInput {
  pred: ArrayLike<number>;
  hr: ArrayLike<number>;
  groupOf: ArrayLike<number>;
  groupNames: readonly string[];
  subjectIndex: ArrayLike<number>;
  /** [N] recording of each window and its start in seconds (WindowSet.times). */
  record: ArrayLike<number>;
  start: ArrayLike<number>;
  windowSeconds: number;
  rule: AlarmRule;
  seed: number;
  resamples?: number;
  level?: number;
}

export interface AlarmGroupReport {
  group: string;
  subjects: number;
  hours: number;
  /** Reference events, those a predicted alarm caught, and those it missed. */
  events: number;
  detected: number;
  missed: number;
  /** detected / events; null when the group had no reference event. */
  sensitivity: Interval | null;
  falseAlarms: number;
  /** null for a group without a monitored window. */
  falseAlarmsPerHour: Interval | null;
  /** Mean seconds from a detected event's onset to the predicted alarm; null when none was detected. */
  timeToAlarmS: Interval | null;
  /** Windows: reference beyond the threshold and predicted so too / predicted so without the reference. */
  windowSensitivity: number | null;
  windowFalsePositiveRate: number | null;
}

export interface AlarmKindReport {
  kind: AlarmKind;
  /** The threshold, bpm (above it for tachy, below it for brady). */
  threshold: number;
  perGroup: AlarmGroupReport[];
  overall: { events: number; detected: number; sensitivity: number | null; falseAlarmsPerHour: number | null; timeToAlarmS: number | null };
  /** max − min over the groups where each is defined (null with fewer than 2 such groups). */
  gaps: { sensitivity: Interval | null; falseAlarmsPerHour: Interval | null; timeToAlarmS: Interval | null };
}

export interface AlarmReport {
  rule: AlarmRule;
  kinds: AlarmKindReport[];
  bootstrap: { resamples: number; level: number; unit: 'subject' };
}

/** Sufficient statistics of one subject for one kind; sums over subjects give a group's metrics. */
const F = { events: 0, detected: 1, delay: 2, falseAlarms: 3, seconds: 4, tp: 5, fn: 6, fp: 7, tn: 8 } as const;
const NF = 9;

type Metrics = { sens: number | null; fa: number | null; tta: number | null; wSens: number | null; wFpr: number | null };

function metricsOf(sum: Float64Array, o: number): Metrics {
  const s = (k: number): number => sum[o + k];
  return {
    sens: s(F.events) > 0 ? s(F.detected) / s(F.events) : null,
    fa: s(F.seconds) > 0 ? s(F.falseAlarms) / (s(F.seconds) / 3600) : null,
    tta: s(F.detected) > 0 ? s(F.delay) / s(F.detected) : null,
    wSens: s(F.tp) + s(F.fn) > 0 ? s(F.tp) / (s(F.tp) + s(F.fn)) : null,
    wFpr: s(F.fp) + s(F.tn) > 0 ? s(F.fp) / (s(F.fp) + s(F.tn)) : null,
  };
}

function spread(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length < 2 ? null : Math.max(...v) - Math.min(...v);
}

export function evaluateAlarms(input: AlarmInput): AlarmReport {
  const ctx = 'evaluateAlarms';
  const { pred, hr, groupOf, groupNames, subjectIndex, record, start, windowSeconds, rule, seed } = input;
  const n = checkPredictions(ctx, pred, hr);
  checkSameLength(ctx, { pred, groupOf, subjectIndex, record, start });
  // Unlike the MAE metrics, a group without windows is allowed: it is reported with empty rates.
  if (groupNames.length === 0) throw new Error(`${ctx}: no group names`);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(groupOf[i]) || groupOf[i] < 0 || groupOf[i] >= groupNames.length) throw new Error(`${ctx}: groupOf[${i}] = ${groupOf[i]} is not a group index in [0, ${groupNames.length})`);
    if (!(start[i] >= 0 && Number.isFinite(start[i]))) throw new Error(`${ctx}: start[${i}] = ${start[i]} is not a time ≥ 0`);
  }
  checkSeed(ctx, seed);
  const resamples = input.resamples ?? 1000;
  const level = input.level ?? 0.95;
  checkPositiveInt(ctx, 'resamples', resamples);
  if (!(level > 0 && level < 1)) throw new Error(`${ctx}: level must be in (0, 1), got ${level}`);
  if (!(windowSeconds > 0)) throw new Error(`${ctx}: windowSeconds must be > 0, got ${windowSeconds}`);
  const G = groupNames.length;

  // Subjects numbered densely in id order; each belongs to one group.
  const ids = [...new Set(Array.from(subjectIndex))].sort((a, b) => a - b);
  const sOf = new Map(ids.map((id, k) => [id, k]));
  const S = ids.length;
  const groupOfSubject = new Int32Array(S).fill(-1);
  const byRecord = new Map<number, number[]>();
  const subjectOfRecord = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const s = sOf.get(subjectIndex[i])!;
    if (groupOfSubject[s] !== -1 && groupOfSubject[s] !== groupOf[i]) throw new Error(`${ctx}: subject ${subjectIndex[i]} has windows in two groups`);
    groupOfSubject[s] = groupOf[i];
    const r = record[i];
    if (subjectOfRecord.has(r) && subjectOfRecord.get(r) !== s) throw new Error(`${ctx}: recording ${r} holds windows of two subjects`);
    subjectOfRecord.set(r, s);
    if (!byRecord.has(r)) byRecord.set(r, []);
    byRecord.get(r)!.push(i);
  }

  const kinds: AlarmKindReport[] = ALARM_KINDS.map((kind) => {
    const beyond = kind === 'tachy' ? (v: number) => v > rule.high : (v: number) => v < rule.low;
    const perSubject = new Float64Array(S * NF);
    for (const [r, rows] of byRecord) {
      rows.sort((a, b) => start[a] - start[b]);
      const st = rows.map((i) => start[i]);
      const refX = rows.map((i) => beyond(hr[i]));
      const predX = rows.map((i) => beyond(pred[i]));
      const ref = alarmEvents(st, refX, windowSeconds, rule.n, rule.m, rule.mergeSeconds);
      const got = alarmEvents(st, predX, windowSeconds, rule.n, rule.m, rule.mergeSeconds);
      const m = matchEvents(ref.events, got.events, rule.toleranceSeconds);
      const o = subjectOfRecord.get(r)! * NF;
      perSubject[o + F.events] += ref.events.length;
      perSubject[o + F.detected] += m.detected;
      perSubject[o + F.delay] += m.delays.reduce((a, b) => a + b, 0);
      perSubject[o + F.falseAlarms] += m.falseAlarms;
      perSubject[o + F.seconds] += coveredSeconds(st, windowSeconds);
      for (let k = 0; k < rows.length; k++) {
        perSubject[o + (refX[k] ? (predX[k] ? F.tp : F.fn) : predX[k] ? F.fp : F.tn)] += 1;
      }
    }
    // Group sums for multiplicities `mult` (1 = the data as observed).
    const sums = (mult: Float64Array): Float64Array => {
      const out = new Float64Array((G + 1) * NF);
      for (let s = 0; s < S; s++) {
        if (mult[s] === 0) continue;
        for (let k = 0; k < NF; k++) {
          out[groupOfSubject[s] * NF + k] += mult[s] * perSubject[s * NF + k];
          out[G * NF + k] += mult[s] * perSubject[s * NF + k];
        }
      }
      return out;
    };
    const point = sums(new Float64Array(S).fill(1));
    const pm = groupNames.map((_, g) => metricsOf(point, g * NF));

    // Bootstrap: subjects drawn with replacement within their group.
    const strata: number[][] = Array.from({ length: G }, () => []);
    for (let s = 0; s < S; s++) strata[groupOfSubject[s]].push(s);
    const rng = streamRng(seed, STREAM.alarmBootstrap, kind === 'tachy' ? 0 : 1);
    const rep = { sens: groupNames.map(() => [] as number[]), fa: groupNames.map(() => [] as number[]), tta: groupNames.map(() => [] as number[]), gS: [] as number[], gF: [] as number[], gT: [] as number[] };
    const mult = new Float64Array(S);
    for (let b = 0; b < resamples; b++) {
      mult.fill(0);
      for (const members of strata) for (let k = 0; k < members.length; k++) mult[members[rng.int(members.length)]] += 1;
      const t = sums(mult);
      const ms = groupNames.map((_, g) => metricsOf(t, g * NF));
      ms.forEach((x, g) => {
        if (x.sens !== null) rep.sens[g].push(x.sens);
        if (x.fa !== null) rep.fa[g].push(x.fa);
        if (x.tta !== null) rep.tta[g].push(x.tta);
      });
      // A gap replicate counts when the groups defined at the point estimate are defined in it too.
      const keep = (f: (x: Metrics) => number | null): number | null => {
        if (pm.some((x, g) => f(x) !== null && f(ms[g]) === null)) return null;
        return spread(ms.map((x, g) => (f(pm[g]) === null ? null : f(x))));
      };
      const gs = keep((x) => x.sens), gf = keep((x) => x.fa), gt = keep((x) => x.tta);
      if (gs !== null) rep.gS.push(gs);
      if (gf !== null) rep.gF.push(gf);
      if (gt !== null) rep.gT.push(gt);
    }
    const interval = (est: number | null, reps: number[]): Interval | null => {
      if (est === null) return null;
      return reps.length === 0 ? { estimate: est, lo: est, hi: est } : percentileInterval(est, Float64Array.from(reps), level);
    };
    const all = metricsOf(point, G * NF);
    return {
      kind,
      threshold: kind === 'tachy' ? rule.high : rule.low,
      perGroup: groupNames.map((group, g) => {
        const o = g * NF;
        return {
          group,
          subjects: strata[g].length,
          hours: point[o + F.seconds] / 3600,
          events: point[o + F.events],
          detected: point[o + F.detected],
          missed: point[o + F.events] - point[o + F.detected],
          sensitivity: interval(pm[g].sens, rep.sens[g]),
          falseAlarms: point[o + F.falseAlarms],
          falseAlarmsPerHour: interval(pm[g].fa, rep.fa[g]),
          timeToAlarmS: interval(pm[g].tta, rep.tta[g]),
          windowSensitivity: pm[g].wSens,
          windowFalsePositiveRate: pm[g].wFpr,
        };
      }),
      overall: { events: point[G * NF + F.events], detected: point[G * NF + F.detected], sensitivity: all.sens, falseAlarmsPerHour: all.fa, timeToAlarmS: all.tta },
      gaps: {
        sensitivity: interval(spread(pm.map((x) => x.sens)), rep.gS),
        falseAlarmsPerHour: interval(spread(pm.map((x) => x.fa)), rep.gF),
        timeToAlarmS: interval(spread(pm.map((x) => x.tta)), rep.gT),
      },
    };
  });
  return { rule, kinds, bootstrap: { resamples, level, unit: 'subject' } };
}
