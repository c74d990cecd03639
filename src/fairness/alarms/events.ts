// From one recording's windows (in time order) to alarm events. A window "exceeds" when its HR is beyond
// the threshold; the alarm is on at a window when n of the last m consecutive windows exceed (a gap in the
// windows, e.g. a dropped artefact window, restarts the count); maximal runs of alarm-on windows, merged
// when closer than mergeSeconds, are events. The same rule applied to the reference HR gives the reference
// events, so real recordings without an episode list are evaluated the same way as synthetic ones.

export interface AlarmEvent {
  /** Onset: start of the earliest exceeding window among those that turned the alarm on, s. */
  start: number;
  /** End of the last alarm-on window, s. */
  end: number;
  /** When the alarm is raised: the end of the first alarm-on window, s. */
  raisedAt: number;
}

/** Windows further apart than their length (plus rounding) are not consecutive. */
function consecutive(prevStart: number, start: number, seconds: number): boolean {
  return start - prevStart <= seconds + 1e-6;
}

/** Alarm state per window and the events it forms. `start` must be sorted. */
export function alarmEvents(start: ArrayLike<number>, exceed: ArrayLike<boolean>, seconds: number, n: number, m: number, mergeSeconds: number): { on: boolean[]; events: AlarmEvent[] } {
  const on: boolean[] = [];
  const events: AlarmEvent[] = [];
  let history: number[] = []; // indices of the current run's last m windows
  let current: AlarmEvent | null = null;
  for (let i = 0; i < start.length; i++) {
    if (i > 0 && start[i] < start[i - 1]) throw new Error(`alarmEvents: window starts are not sorted (${start[i - 1]} then ${start[i]})`);
    if (i > 0 && !consecutive(start[i - 1], start[i], seconds)) history = [];
    history.push(i);
    if (history.length > m) history.shift();
    const count = history.reduce((a, k) => a + (exceed[k] ? 1 : 0), 0);
    const isOn = count >= n;
    on.push(isOn);
    if (!isOn) continue;
    const wasOn = i > 0 && on[i - 1] && consecutive(start[i - 1], start[i], seconds);
    if (wasOn && current) {
      current.end = start[i] + seconds;
      continue;
    }
    const first = history.find((k) => exceed[k]) ?? i;
    const ev: AlarmEvent = { start: start[first], end: start[i] + seconds, raisedAt: start[i] + seconds };
    const prev = events[events.length - 1];
    if (prev && ev.start - prev.end <= mergeSeconds) {
      prev.end = ev.end;
      current = prev;
    } else {
      events.push(ev);
      current = ev;
    }
  }
  return { on, events };
}

/** Seconds covered by windows (their union), runs of consecutive windows measured from first start to last end. */
export function coveredSeconds(start: ArrayLike<number>, seconds: number): number {
  let total = 0;
  let runStart = NaN;
  for (let i = 0; i < start.length; i++) {
    if (i === 0 || !consecutive(start[i - 1], start[i], seconds)) {
      if (i > 0) total += start[i - 1] + seconds - runStart;
      runStart = start[i];
    }
  }
  if (start.length > 0) total += start[start.length - 1] + seconds - runStart;
  return total;
}

export interface MatchResult {
  /** Reference events a predicted event overlapped (within the tolerance). */
  detected: number;
  missed: number;
  /** Predicted events that overlapped no reference event. */
  falseAlarms: number;
  /** Per detected reference event: seconds from its onset to the first matching predicted alarm (≥ 0). */
  delays: number[];
}

/** Match predicted events to reference events of one recording. */
export function matchEvents(reference: readonly AlarmEvent[], predicted: readonly AlarmEvent[], toleranceSeconds: number): MatchResult {
  const overlaps = (r: AlarmEvent, p: AlarmEvent): boolean => p.start <= r.end + toleranceSeconds && p.end >= r.start - toleranceSeconds;
  const delays: number[] = [];
  let detected = 0;
  for (const r of reference) {
    const hit = predicted.filter((p) => overlaps(r, p));
    if (hit.length === 0) continue;
    detected++;
    // An alarm already raised when the event began counts as no delay.
    delays.push(Math.max(0, Math.min(...hit.map((p) => p.raisedAt)) - r.start));
  }
  const falseAlarms = predicted.filter((p) => !reference.some((r) => overlaps(r, p))).length;
  return { detected, missed: reference.length - detected, falseAlarms, delays };
}
