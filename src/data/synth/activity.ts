// Activity programmes: what the subject does over time, which sets the HR target and the motion level.

export interface Activity {
  name: string;
  /** Duration in seconds (Infinity for a single-state programme). */
  seconds: number;
  /** HR rise above resting, in bpm, once settled. */
  hrOffset: number;
  /** Motion intensity (0 none, 1 brisk walking); scales artefacts. */
  motion: number;
  /** Periodic arm/body motion frequency in Hz (steps, pedalling), 0 if none. */
  cadenceHz: number;
}

export interface ActivitySpan extends Activity {
  start: number;
  end: number;
}

/**
 * Lay the programme over [0, duration): the programme repeats if the recording is longer, and is cut
 * at the end. `jitter` (0..1) varies each span's length and intensity per subject.
 */
export function layActivities(programme: Activity[], duration: number, jitter: () => number): ActivitySpan[] {
  if (programme.length === 0) throw new Error('layActivities: empty activity programme');
  const out: ActivitySpan[] = [];
  let t = 0;
  for (let i = 0; t < duration; i++) {
    const a = programme[i % programme.length];
    const len = Number.isFinite(a.seconds) ? a.seconds * (0.8 + 0.4 * jitter()) : duration;
    const end = Math.min(duration, t + len);
    const k = 0.85 + 0.3 * jitter();
    out.push({ ...a, hrOffset: a.hrOffset * k, motion: a.motion * k, cadenceHz: a.cadenceHz * (0.92 + 0.16 * jitter()), start: t, end });
    t = end;
  }
  return out;
}

export function activityAt(spans: ActivitySpan[], t: number): ActivitySpan {
  for (const s of spans) if (t < s.end) return s;
  return spans[spans.length - 1];
}
