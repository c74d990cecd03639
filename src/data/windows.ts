// Recordings (any native rate) → a WindowSet at 40 Hz with one HR label per window.
import { bandpass as bandpassFilter } from './signal/filter';
import { frames } from './signal/framing';
import { resample } from './signal/resample';
import { countsPerGroup } from './summary';
import { Recording, Subject, WindowSet } from './types';

export const MODEL_FS = 40;

export interface MakeWindowsOptions {
  /** Domain name recorded in the WindowSet (e.g. "dalia-like", "butppg"). */
  domain: string;
  /** Window length in seconds (default 10 → 400 samples = 10 patches of 40). */
  seconds?: number;
  /** Hop in seconds (default = seconds: no overlap). */
  hopSeconds?: number;
  /** Zero-phase band-pass [lo, hi] Hz applied at 40 Hz before cutting (default [0.5, 8]); null = none. */
  bandpass?: [number, number] | null;
  /** Extra manifest entries (source, seed, generator parameters …). */
  manifest?: Record<string, unknown>;
}

/** 60 / mean inter-beat interval of the beats in [t0, t1), or NaN with fewer than two beats. */
export function hrFromBeats(beats: Float64Array, t0: number, t1: number): number {
  // Beats are sorted: binary search for the first beat ≥ t0.
  let lo = 0, hi = beats.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (beats[mid] < t0) lo = mid + 1;
    else hi = mid;
  }
  let last = lo;
  while (last < beats.length && beats[last] < t1) last++;
  const count = last - lo;
  if (count < 2) return NaN;
  return (60 * (count - 1)) / (beats[last - 1] - beats[lo]);
}

/**
 * Label from reference labels: the mean of the labels whose centres fall in [t0, t1]; if none, the
 * label nearest to the window's centre provided it is within one window length; otherwise NaN.
 */
export function hrFromTrack(t: Float64Array, hr: Float64Array, t0: number, t1: number): number {
  let sum = 0, count = 0, nearest = NaN, best = Infinity;
  const c = (t0 + t1) / 2;
  for (let i = 0; i < t.length; i++) {
    if (!Number.isFinite(hr[i])) continue;
    if (t[i] >= t0 && t[i] <= t1) {
      sum += hr[i];
      count++;
    }
    const d = Math.abs(t[i] - c);
    if (d < best) {
      best = d;
      nearest = hr[i];
    }
  }
  if (count > 0) return sum / count;
  return best <= t1 - t0 ? nearest : NaN;
}

/** Band-pass each finite run of x separately; NaN samples (gaps) stay NaN. */
function filterRuns(x: Float32Array, fs: number, lo: number, hi: number, minRun: number): Float32Array {
  const out = new Float32Array(x.length).fill(NaN);
  let i = 0;
  while (i < x.length) {
    while (i < x.length && !Number.isFinite(x[i])) i++;
    let j = i;
    while (j < x.length && Number.isFinite(x[j])) j++;
    if (j - i >= minRun) out.set(bandpassFilter(x.subarray(i, j), fs, lo, hi), i);
    i = j;
  }
  return out;
}

/**
 * A window with no signal to speak of: its peak-to-peak is zero, or under a millionth of its largest
 * magnitude (a constant offset). All-zero and flat-lined windows (a disconnected sensor) carry an HR label
 * but no pulse: training on them teaches the model to guess.
 */
export function isFlatWindow(w: ArrayLike<number>): boolean {
  let lo = Infinity, hi = -Infinity, mag = 0;
  for (let i = 0; i < w.length; i++) {
    const v = w[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    mag = Math.max(mag, Math.abs(v));
  }
  return !(hi - lo > 1e-6 * mag) || hi - lo === 0;
}

export function makeWindows(recordings: Recording[], subjects: Subject[], opts: MakeWindowsOptions): WindowSet {
  const seconds = opts.seconds ?? 10;
  const hop = opts.hopSeconds ?? seconds;
  if (!opts.domain) throw new Error('makeWindows: a domain name is required');
  const length = seconds * MODEL_FS;
  if (!(seconds > 0) || !Number.isInteger(length)) throw new Error(`makeWindows: window of ${seconds} s is not a whole number of samples at ${MODEL_FS} Hz`);
  if (!(hop > 0)) throw new Error(`makeWindows: hop must be > 0 s, got ${hop}`);
  const band = opts.bandpass === undefined ? ([0.5, 8] as [number, number]) : opts.bandpass;
  const subjectPos = new Map<string, number>();
  subjects.forEach((s, i) => {
    if (subjectPos.has(s.id)) throw new Error(`makeWindows: subject id "${s.id}" appears twice`);
    subjectPos.set(s.id, i);
  });

  const rows: Float32Array[] = [];
  const labels: number[] = [];
  const subjOf: number[] = [];
  const recOf: number[] = [];
  const startOf: number[] = [];
  const episodes: Record<string, unknown>[] = [];
  let droppedGap = 0, droppedLabel = 0, droppedFlat = 0;
  for (const [r, rec] of recordings.entries()) {
    const where = `recording ${rec.subjectId}/${rec.recordId}`;
    const si = subjectPos.get(rec.subjectId);
    if (si === undefined) throw new Error(`makeWindows: ${where} belongs to unknown subject "${rec.subjectId}"`);
    if (!Number.isInteger(rec.fs) || rec.fs <= 0) throw new Error(`makeWindows: ${where} has sampling rate ${rec.fs}; a positive integer is required`);
    if (!rec.beats && !rec.hrTrack) throw new Error(`makeWindows: ${where} has neither beat times nor an HR track to label windows`);
    if (rec.hrTrack && rec.hrTrack.t.length !== rec.hrTrack.hr.length) {
      throw new Error(`makeWindows: ${where} HR track has ${rec.hrTrack.t.length} times but ${rec.hrTrack.hr.length} values`);
    }
    // Flatness is judged on the signal as recorded (resampled): the band-pass would smear a neighbouring
    // pulse's edge into a flat stretch.
    const raw = resample(rec.signal, rec.fs, MODEL_FS);
    const x = band ? filterRuns(raw, MODEL_FS, band[0], band[1], length) : raw;
    for (const f of frames(x.length, MODEL_FS, seconds, hop)) {
      const w = x.subarray(f.start, f.end);
      if (!w.every(Number.isFinite)) {
        droppedGap++;
        continue;
      }
      if (isFlatWindow(raw.subarray(f.start, f.end))) {
        droppedFlat++;
        continue;
      }
      const hr = rec.beats ? hrFromBeats(rec.beats, f.t0, f.t1) : hrFromTrack(rec.hrTrack!.t, rec.hrTrack!.hr, f.t0, f.t1);
      if (!Number.isFinite(hr)) {
        droppedLabel++;
        continue;
      }
      rows.push(w);
      labels.push(hr);
      subjOf.push(si);
      recOf.push(r);
      startOf.push(f.t0);
    }
    for (const e of rec.episodes ?? []) episodes.push({ subject: rec.subjectId, recording: rec.recordId, record: r, ...e });
  }

  // Keep only subjects that have windows, in their original order.
  const used = [...new Set(subjOf)].sort((a, b) => a - b);
  const remap = new Map(used.map((s, i) => [s, i]));
  const windows = new Float32Array(rows.length * length);
  rows.forEach((r, i) => windows.set(r, i * length));
  const ws: WindowSet = {
    domain: opts.domain,
    fs: MODEL_FS,
    length,
    windows,
    hr: Float32Array.from(labels),
    subjectIndex: Int32Array.from(subjOf.map((s) => remap.get(s)!)),
    subjects: used.map((s) => subjects[s]),
    times: { record: Int32Array.from(recOf), start: Float64Array.from(startOf), seconds },
    manifest: {},
  };
  ws.manifest = {
    ...(opts.manifest ?? {}),
    domain: opts.domain,
    fs: MODEL_FS,
    windowSeconds: seconds,
    hopSeconds: hop,
    bandpassHz: band,
    recordings: recordings.length,
    dropped: { gaps: droppedGap, noLabel: droppedLabel, flat: droppedFlat },
    counts: countsPerGroup(ws),
    // The ground truth of a synthetic cohort's HR episodes (record = the windows' recording number).
    ...(episodes.length > 0 ? { episodes } : {}),
  };
  return ws;
}
