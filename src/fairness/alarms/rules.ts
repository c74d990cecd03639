// What turns an HR series into alarms: thresholds, a persistence rule (N of the last M windows beyond the
// threshold) and how events are merged and matched. Three profiles give defaults for the three kinds of
// device the synthetic domains stand for; an experiment may override any field.
//  - icu: bedside monitors ship adult HR limits of 120 bpm high / 50 bpm low (e.g. Philips IntelliVue's
//    defaults); N = 2 of M = 3 ten-second windows is the short alarm delay monitors use against one-off
//    artefacts.
//  - wearable: wrist notifications default to 120 bpm high and let the user pick 40-50 bpm low (45 is the
//    middle); they wait for a sustained reading, shortened here to 3 of 3 windows (30 s) because a recording
//    is minutes, not the hours over which a watch waits 10 minutes.
//  - spot-check: a phone measurement is one reading: resting tachycardia above 100 bpm, bradycardia below 50,
//    1 of 1.
export interface AlarmRule {
  /** Tachycardia alarm: HR above this, bpm. */
  high: number;
  /** Bradycardia alarm: HR below this, bpm. */
  low: number;
  /** Persistence: the alarm is on at a window when at least n of the last m consecutive windows exceed. */
  n: number;
  m: number;
  /** Two alarm periods closer than this (seconds between one's end and the next's start) are one event. */
  mergeSeconds: number;
  /** A predicted alarm within this many seconds of a reference event (before or after) counts as detecting it. */
  toleranceSeconds: number;
}

export const ALARM_PROFILES = {
  icu: { high: 120, low: 50, n: 2, m: 3, mergeSeconds: 30, toleranceSeconds: 30 },
  wearable: { high: 120, low: 45, n: 3, m: 3, mergeSeconds: 60, toleranceSeconds: 30 },
  'spot-check': { high: 100, low: 50, n: 1, m: 1, mergeSeconds: 0, toleranceSeconds: 0 },
} as const satisfies Record<string, AlarmRule>;

export type AlarmProfileName = keyof typeof ALARM_PROFILES;
export const ALARM_PROFILE_NAMES = Object.keys(ALARM_PROFILES) as AlarmProfileName[];

/** The profile a domain's device suggests from its name; anything unknown is treated as a wearable. */
export function profileForDomain(domain: string): AlarmProfileName {
  const d = domain.toLowerCase();
  if (d.includes('mimic') || d.includes('icu')) return 'icu';
  if (d.includes('butppg') || d.includes('but-ppg') || d.includes('phone')) return 'spot-check';
  return 'wearable';
}

/** A profile's rule with the experiment's overrides, checked as a whole. */
export function resolveRule(profile: AlarmProfileName, overrides: Partial<AlarmRule> = {}): AlarmRule {
  const r: AlarmRule = { ...ALARM_PROFILES[profile], ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  const bad = (msg: string): Error => new Error(`alarm rule (${profile}): ${msg}`);
  if (!(r.low > 0 && r.high > r.low && Number.isFinite(r.high))) throw bad(`thresholds need 0 < low < high, got low ${r.low}, high ${r.high}`);
  if (!Number.isInteger(r.n) || !Number.isInteger(r.m) || r.n < 1 || r.m < r.n || r.m > 1000) throw bad(`persistence needs integers 1 ≤ n ≤ m ≤ 1000, got ${r.n} of ${r.m}`);
  if (!(r.mergeSeconds >= 0 && r.toleranceSeconds >= 0 && Number.isFinite(r.mergeSeconds + r.toleranceSeconds))) {
    throw bad(`mergeSeconds and toleranceSeconds must be finite and ≥ 0, got ${r.mergeSeconds} and ${r.toleranceSeconds}`);
  }
  return r;
}
