// HR labels from the ECG leads of a recording, with a signal-quality check per label window, so that a
// lead-off artefact or a burst of spurious beats does not become a confident wrong label. Beats come from
// the Pan–Tompkins detector (ecg-rpeaks.ts: band-pass, refractory period, adaptive thresholds) run on every
// lead present. Within a window, a detection that splits one beat interval in two (an artefact spike
// between two beats: the short interval and the next add up to a normal one) is dropped first, as HRV tools
// correct extra beats; the normal interval is the 75th percentile of the window's intervals, which extra
// beats (they only shorten intervals) cannot pull down unless they are most of them. More than a quarter of
// the beats dropped rejects the window. A label window is kept only when
//  - its beat intervals are physiological (every RR within 60/220 … 60/30 s) and consistent (no RR below
//    half or above 1.8× the window's median, which is what a missed or an inserted beat does; atrial
//    fibrillation's irregularity stays inside these bounds);
//  - the leads that cover it agree (within 5 bpm or 5%);
//  - the ECG HR agrees with the PPG's own spectral HR over the same seconds (within 10 bpm or 15%), the
//    check that exposes an ECG whose artefacts still look like beats.
// The label is the median over the passing leads of 60 / mean RR. Rejected windows are counted by reason.
import { estimateHr } from '../signal/hr-estimator';
import { detectRPeaks } from './ecg-rpeaks';

export type LabelRejection = 'too few beats' | 'implausible beat intervals' | 'leads disagree' | 'ECG and PPG disagree';

export interface EcgLabels {
  /** Window centres, seconds from the start of the run. */
  t: number[];
  hr: number[];
  /** Label windows dropped, by reason. */
  rejected: Record<LabelRejection, number>;
  /** Windows that some lead covered (kept + rejected). */
  considered: number;
}

export interface EcgLabelOptions {
  /** Label window and hop, seconds (default 8 and 2). */
  window?: number;
  shift?: number;
}

const RR_MIN = 60 / 220, RR_MAX = 60 / 30;

/** Finite stretches [from, to) of a lead. */
function stretches(x: Float64Array): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= x.length; i++) {
    const ok = i < x.length && Number.isFinite(x[i]);
    if (ok && start < 0) start = i;
    if (!ok && start >= 0) {
      out.push([start, i]);
      start = -1;
    }
  }
  return out;
}

/** Beats without the extra detections that split a normal interval (see the header). */
export function dropExtraBeats(beats: readonly number[]): number[] {
  const b = [...beats];
  for (;;) {
    const rr = b.slice(1).map((x, i) => x - b[i]);
    if (rr.length < 2) return b;
    const ref = [...rr].sort((p, q) => p - q)[Math.floor(0.75 * (rr.length - 1))];
    const i = rr.findIndex((r, k) => r < 0.6 * ref && k + 1 < rr.length && Math.abs(r + rr[k + 1] - ref) < 0.25 * ref);
    if (i < 0) return b;
    b.splice(i + 1, 1);
  }
}

/** One lead's HR over [a, b) samples from its beats, or why there is none. */
function leadHr(beats: readonly number[], a: number, b: number, fs: number): number | LabelRejection {
  const found = beats.filter((x) => x >= a && x < b);
  const inside = dropExtraBeats(found);
  if (inside.length < 3) return 'too few beats';
  if (found.length - inside.length > 0.25 * found.length) return 'implausible beat intervals';
  const rr = inside.slice(1).map((x, i) => (x - inside[i]) / fs);
  const sorted = [...rr].sort((p, q) => p - q);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (rr.some((r) => r < RR_MIN || r > RR_MAX || r < 0.5 * median || r > 1.8 * median)) return 'implausible beat intervals';
  return 60 / (rr.reduce((s, r) => s + r, 0) / rr.length);
}

/** Labels over a run of `pleth` (fs Hz) with `leads` sampled alongside it (NaN where a lead is absent). */
export function ecgLabels(leads: readonly Float64Array[], pleth: Float64Array, fs: number, opts: EcgLabelOptions = {}): EcgLabels {
  const W = Math.round((opts.window ?? 8) * fs), H = Math.round((opts.shift ?? 2) * fs);
  const perLead = leads.map((x) => {
    const runs = stretches(x);
    const beats: number[] = [];
    for (const [a, b] of runs) for (const p of detectRPeaks(x.subarray(a, b), fs)) beats.push(a + p);
    return { runs, beats };
  });
  const out: EcgLabels = {
    t: [], hr: [], considered: 0,
    rejected: { 'too few beats': 0, 'implausible beat intervals': 0, 'leads disagree': 0, 'ECG and PPG disagree': 0 },
  };
  for (let a = 0; a + W <= pleth.length; a += H) {
    const b = a + W;
    const covering = perLead.filter((l) => l.runs.some(([s, e]) => s <= a && b <= e));
    if (covering.length === 0) continue;
    out.considered++;
    const results = covering.map((l) => leadHr(l.beats, a, b, fs));
    const ok = results.filter((r): r is number => typeof r === 'number').sort((p, q) => p - q);
    if (ok.length === 0) {
      out.rejected[results.includes('implausible beat intervals') ? 'implausible beat intervals' : 'too few beats']++;
      continue;
    }
    const hr = ok[Math.floor((ok.length - 1) / 2)];
    if (ok[ok.length - 1] - ok[0] > Math.max(5, 0.05 * hr)) {
      out.rejected['leads disagree']++;
      continue;
    }
    const seg = pleth.subarray(a, b);
    if (seg.every(Number.isFinite)) {
      const ppg = estimateHr(seg, fs).hr;
      if (Math.abs(ppg - hr) > Math.max(10, 0.15 * hr)) {
        out.rejected['ECG and PPG disagree']++;
        continue;
      }
    }
    out.t.push((a + b) / 2 / fs);
    out.hr.push(hr);
  }
  return out;
}

/** "kept 12 of 15 label windows; rejected: ECG and PPG disagree 3" for the import report. */
export function describeLabels(l: EcgLabels): string {
  const why = Object.entries(l.rejected).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`);
  return `kept ${l.t.length} of ${l.considered} ECG label windows${why.length ? `; rejected: ${why.join(', ')}` : ''}`;
}
