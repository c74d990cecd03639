// Alarm metrics against cases worked out by hand: the persistence rule, event merging and matching,
// false alarms per hour, time to alarm, empty groups, and the bootstrap intervals' behaviour.
import { alarmEvents, coveredSeconds, matchEvents } from '../../src/fairness/alarms/events';
import { evaluateAlarms, type AlarmInput } from '../../src/fairness/alarms/evaluate';
import { ALARM_PROFILES, profileForDomain, resolveRule, type AlarmRule } from '../../src/fairness/alarms/rules';

const W = 10;
const starts = (k: number, from = 0): number[] => Array.from({ length: k }, (_, i) => from + i * W);

describe('persistence rule', () => {
  test('2 of 3: one exceeding window raises nothing, two within three windows do', () => {
    const x = [false, true, false, false, true, false, true, true, false, false, false];
    const { on, events } = alarmEvents(starts(x.length), x, W, 2, 3, 0);
    // Window 1 alone: off. Windows 4 and 6 fall within the 3-window span 4..6: on at 6; 7 keeps it on
    // (6,7 exceed); window 8 still sees 6,7 → on; window 9 sees 7 only → off.
    expect(on).toEqual([false, false, false, false, false, false, true, true, true, false, false]);
    // Onset is the earliest exceeding window that counted (window 4, 40 s); raised at the end of window 6.
    expect(events).toEqual([{ start: 40, end: 90, raisedAt: 70 }]);
  });

  test('n of m restarts after a gap in the windows', () => {
    // Windows at 0,10 then a gap (a dropped window at 20) then 30,40: the count restarts at 30.
    const st = [0, 10, 30, 40];
    const { on } = alarmEvents(st, [false, true, true, false], W, 2, 2, 0);
    expect(on).toEqual([false, false, false, false]);
    expect(alarmEvents([0, 10, 20, 30], [false, true, true, false], W, 2, 2, 0).on).toEqual([false, false, true, false]);
  });

  test('1 of 1 is the reading itself', () => {
    const { events } = alarmEvents([0, 10, 20], [true, false, true], W, 1, 1, 0);
    expect(events).toEqual([{ start: 0, end: 10, raisedAt: 10 }, { start: 20, end: 30, raisedAt: 30 }]);
  });

  test('events closer than mergeSeconds are one event, farther ones stay apart', () => {
    const x = [true, true, false, false, true, true, false, false, false, false, true];
    const apart = alarmEvents(starts(x.length), x, W, 1, 1, 10).events;
    expect(apart).toEqual([{ start: 0, end: 20, raisedAt: 10 }, { start: 40, end: 60, raisedAt: 50 }, { start: 100, end: 110, raisedAt: 110 }]);
    // 20 s between the first two: merged at mergeSeconds 20, the third (40 s after) not.
    const merged = alarmEvents(starts(x.length), x, W, 1, 1, 20).events;
    expect(merged).toEqual([{ start: 0, end: 60, raisedAt: 10 }, { start: 100, end: 110, raisedAt: 110 }]);
  });

  test('unsorted starts are refused', () => {
    expect(() => alarmEvents([10, 0], [true, true], W, 1, 1, 0)).toThrow(/not sorted/);
  });

  test('covered time is the union of the windows', () => {
    expect(coveredSeconds([0, 10, 20, 50, 60], W)).toBe(30 + 20);
    expect(coveredSeconds([0, 5, 10], W)).toBe(20); // overlapping windows (hop 5)
    expect(coveredSeconds([], W)).toBe(0);
  });
});

describe('matching', () => {
  const ref = [{ start: 100, end: 160, raisedAt: 120 }, { start: 300, end: 330, raisedAt: 320 }];
  test('detection, misses, false alarms and delays', () => {
    const pred = [{ start: 110, end: 150, raisedAt: 130 }, { start: 500, end: 520, raisedAt: 510 }];
    expect(matchEvents(ref, pred, 0)).toEqual({ detected: 1, missed: 1, falseAlarms: 1, delays: [30] });
  });
  test('the tolerance lets an alarm just after the event count, and an alarm raised before onset has no delay', () => {
    const late = [{ start: 335, end: 345, raisedAt: 345 }];
    expect(matchEvents(ref, late, 0).detected).toBe(0);
    expect(matchEvents(ref, late, 10)).toEqual({ detected: 1, missed: 1, falseAlarms: 0, delays: [45] });
    const early = [{ start: 80, end: 170, raisedAt: 90 }];
    expect(matchEvents(ref, early, 0).delays).toEqual([0]);
  });
  test('no reference events: every predicted event is a false alarm', () => {
    expect(matchEvents([], [{ start: 0, end: 10, raisedAt: 10 }], 30)).toEqual({ detected: 0, missed: 0, falseAlarms: 1, delays: [] });
  });
});

describe('rules', () => {
  test('domains map to their device profile', () => {
    expect(profileForDomain('mimic-like')).toBe('icu');
    expect(profileForDomain('butppg')).toBe('spot-check');
    expect(profileForDomain('dalia-like')).toBe('wearable');
    expect(profileForDomain('my-clinic')).toBe('wearable');
  });
  test('overrides replace fields and bad rules are refused by name', () => {
    expect(resolveRule('icu', { high: 130 })).toEqual({ ...ALARM_PROFILES.icu, high: 130 });
    expect(() => resolveRule('icu', { low: 130 })).toThrow(/0 < low < high/);
    expect(() => resolveRule('icu', { n: 4 })).toThrow(/1 ≤ n ≤ m/);
    expect(() => resolveRule('icu', { toleranceSeconds: -1 })).toThrow(/toleranceSeconds/);
  });
});

describe('evaluateAlarms', () => {
  const rule: AlarmRule = { high: 120, low: 50, n: 1, m: 1, mergeSeconds: 0, toleranceSeconds: 0 };
  // Four subjects, one 6-window recording each (1 minute). Group A: subjects 0, 1; group B: subjects 2, 3.
  // Reference: subject 0 tachy in windows 1-2, subject 2 tachy in window 3, subject 3 brady in window 0.
  // Predictions: subject 0 catches its event at window 2 (delay 30 - 10 = 20 s) and adds a false alarm at
  // window 5; subject 2 misses its event; subject 3 catches its brady; subject 1 raises nothing.
  function input(): AlarmInput {
    const hr: number[] = [], pred: number[] = [], subjectIndex: number[] = [], record: number[] = [], start: number[] = [], groupOf: number[] = [];
    const ref = [[80, 130, 130, 80, 80, 80], [80, 80, 80, 80, 80, 80], [80, 80, 80, 125, 80, 80], [45, 80, 80, 80, 80, 80]];
    const got = [[80, 110, 140, 80, 80, 150], [80, 80, 80, 80, 80, 80], [80, 80, 80, 110, 80, 80], [48, 80, 80, 80, 80, 80]];
    for (let s = 0; s < 4; s++) for (let k = 0; k < 6; k++) {
      hr.push(ref[s][k]); pred.push(got[s][k]); subjectIndex.push(s); record.push(10 + s); start.push(k * W); groupOf.push(s < 2 ? 0 : 1);
    }
    return { pred, hr, groupOf, groupNames: ['A', 'B'], subjectIndex, record, start, windowSeconds: W, rule, seed: 1, resamples: 200 };
  }

  test('per-group counts and rates match the hand count', () => {
    const r = evaluateAlarms(input());
    const tachy = r.kinds.find((k) => k.kind === 'tachy')!;
    const [a, b] = tachy.perGroup;
    expect(a).toMatchObject({ group: 'A', subjects: 2, events: 1, detected: 1, missed: 0, falseAlarms: 1 });
    expect(a.hours).toBeCloseTo(2 / 60, 12);
    expect(a.sensitivity!.estimate).toBe(1);
    expect(a.falseAlarmsPerHour!.estimate).toBeCloseTo(1 / (2 / 60), 9); // 30 per hour
    expect(a.timeToAlarmS!.estimate).toBe(20);
    // Windows of A: reference beyond in 2 (one predicted so), predicted beyond without the reference in 1 of 10.
    expect(a.windowSensitivity).toBe(0.5);
    expect(a.windowFalsePositiveRate).toBeCloseTo(1 / 10, 12);
    expect(b).toMatchObject({ group: 'B', events: 1, detected: 0, missed: 1, falseAlarms: 0, timeToAlarmS: null });
    expect(b.sensitivity!.estimate).toBe(0);
    expect(tachy.gaps.sensitivity!.estimate).toBe(1);
    expect(tachy.gaps.falseAlarmsPerHour!.estimate).toBeCloseTo(30, 9);
    // Time to alarm is defined for A only: no gap.
    expect(tachy.gaps.timeToAlarmS).toBeNull();
    expect(tachy.overall).toMatchObject({ events: 2, detected: 1, sensitivity: 0.5 });

    const brady = r.kinds.find((k) => k.kind === 'brady')!;
    expect(brady.threshold).toBe(50);
    expect(brady.perGroup[0].sensitivity).toBeNull(); // no brady event in A
    expect(brady.perGroup[1]).toMatchObject({ events: 1, detected: 1, falseAlarms: 0 });
    expect(brady.perGroup[1].timeToAlarmS!.estimate).toBe(10);
    expect(brady.gaps.sensitivity).toBeNull();
  });

  test('intervals contain their estimates and reflect the subjects drawn', () => {
    const r = evaluateAlarms(input());
    const a = r.kinds[0].perGroup[0];
    // A's false alarms come from one of its two subjects: replicates give 0, 30 or 60 per hour.
    expect(a.falseAlarmsPerHour!.lo).toBe(0);
    expect(a.falseAlarmsPerHour!.hi).toBeCloseTo(60, 9);
    for (const k of r.kinds) for (const g of k.perGroup) {
      for (const iv of [g.sensitivity, g.falseAlarmsPerHour, g.timeToAlarmS]) {
        if (iv) expect(iv.lo).toBeLessThanOrEqual(iv.estimate + 1e-12), expect(iv.hi).toBeGreaterThanOrEqual(iv.estimate - 1e-12);
      }
    }
    // Deterministic for a seed.
    expect(evaluateAlarms(input())).toEqual(r);
  });

  test('an empty group is reported, not dropped, and takes part in no gap', () => {
    const inp = { ...input(), groupNames: ['A', 'B', 'C'] };
    const r = evaluateAlarms(inp);
    const c = r.kinds[0].perGroup[2];
    expect(c).toMatchObject({ group: 'C', subjects: 0, hours: 0, events: 0, sensitivity: null, falseAlarmsPerHour: null, timeToAlarmS: null });
    expect(r.kinds[0].gaps.sensitivity!.estimate).toBe(1);
  });

  test('persistence applies per recording: windows of one subject in two recordings do not join', () => {
    const one = (record: number[]) => evaluateAlarms({
      pred: [80, 80, 80, 80], hr: [130, 80, 80, 130], groupOf: [0, 0, 1, 1], groupNames: ['A', 'B'], subjectIndex: [0, 0, 1, 1],
      record, start: [0, 10, 0, 10], windowSeconds: W, rule: { ...rule, n: 2, m: 2 }, seed: 1, resamples: 20,
    });
    expect(one([0, 0, 1, 1]).kinds[0].overall.events).toBe(0);
  });

  test('bad input is named', () => {
    expect(() => evaluateAlarms({ ...input(), record: [1, 2] })).toThrow(/evaluateAlarms/);
    const inp = input();
    const record = Array.from(inp.record);
    record[0] = 12; // subject 0's first window in subject 2's recording
    expect(() => evaluateAlarms({ ...inp, record })).toThrow(/recording 12 holds windows of two subjects/);
    expect(() => evaluateAlarms({ ...input(), windowSeconds: 0 })).toThrow(/windowSeconds/);
  });
});
