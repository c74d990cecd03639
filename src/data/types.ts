// The data layer's two currencies. Loaders (real datasets) and synthetic generators both produce
// Recordings at the source's native rate; the windowing pipeline turns Recordings into a WindowSet at
// 40 Hz, which is all the model ever sees.

/** Demographic and other attributes of a subject. Categorical values are strings; numbers stay numbers. */
export type Attributes = Record<string, string | number>;

export interface Subject {
  /** Unique within a dataset, e.g. "S3" (PPG-DaLiA), "100" (BUT-PPG), "p000878" (MIMIC). */
  id: string;
  /** At least `gender` ("F" | "M") where known; `age` in years; `ageBand`; `skin` (Fitzpatrick 1–6) … */
  attributes: Attributes;
}

/** Heart rate known at points in time: either exact beat-derived values (synthetic) or reference labels. */
export interface HrTrack {
  /** Centre times in seconds from the start of the recording. */
  t: Float64Array;
  /** HR in bpm at those times. */
  hr: Float64Array;
}

/** One continuous PPG recording of one subject at its native sampling rate. */
export interface Recording {
  subjectId: string;
  /** Identifies the recording within the subject (e.g. BUT-PPG measurement id, MIMIC segment). */
  recordId: string;
  /** Sampling rate in Hz. */
  fs: number;
  signal: Float32Array;
  /**
   * Exact beat times in seconds when known (synthetic data): the label of any window is then
   * 60 / mean inter-beat interval of the beats inside it.
   */
  beats?: Float64Array;
  /** Reference HR labels when beats are not known (real datasets). */
  hrTrack?: HrTrack;
  /** Free-form per-recording information (activity, quality flags, …). */
  meta?: Record<string, string | number>;
  /** Ground-truth HR episodes (tachycardia, bradycardia) a synthetic generator put into this recording. */
  episodes?: HrEpisode[];
}

/** A tachycardia or bradycardia episode placed in a synthetic recording: the truth alarms are judged against. */
export interface HrEpisode {
  kind: 'tachy' | 'brady';
  /** Seconds from the start of the recording; the HR moves toward `targetHr` from `start` and back after `end`. */
  start: number;
  end: number;
  targetHr: number;
}

/**
 * Where each window lies in time: which recording it was cut from and its start within it. Alarm
 * evaluation needs it to follow a subject's consecutive windows (persistence rules, events, alarms per hour).
 */
export interface WindowTimes {
  /** [N] recording number, unique within the window set (the same recording keeps its number in subsets). */
  record: Int32Array;
  /** [N] start of the window in seconds from the start of its recording. */
  start: Float64Array;
  /** Window length in seconds. */
  seconds: number;
}

/** Windows at 40 Hz with labels, ready for the model. Row i of `windows` is window i. */
export interface WindowSet {
  /** e.g. "dalia-like", "butppg", "mimic". */
  domain: string;
  /** Always 40 (the model's rate). */
  fs: number;
  /** Samples per window (= seconds · 40). */
  length: number;
  /** [N · length], row-major, NOT min–max scaled (the model scales each window itself). */
  windows: Float32Array;
  /** [N] HR label in bpm. */
  hr: Float32Array;
  /** [N] index into `subjects`. */
  subjectIndex: Int32Array;
  subjects: Subject[];
  /** Each window's recording and start time; absent in window sets written before fairtune recorded them. */
  times?: WindowTimes;
  /** Where this came from: source, parameters, seed, counts; written into the cache manifest. */
  manifest: Record<string, unknown>;
}
