// Synthetic cohort straight to model-ready windows (what `fairtune data synth` and experiments use).
import { WindowSet } from '../types';
import { makeWindows } from '../windows';
import { CohortOptions, generateCohort } from './cohort';

export interface SynthWindowsOptions extends CohortOptions {
  /** Window length in seconds (default 10). */
  windowSeconds?: number;
  /** Hop in seconds (default = window length). */
  hopSeconds?: number;
}

export function synthWindowSet(preset: string, opts: SynthWindowsOptions): WindowSet {
  const cohort = generateCohort(preset, opts);
  return makeWindows(cohort.recordings, cohort.subjects, {
    domain: preset,
    seconds: opts.windowSeconds ?? 10,
    hopSeconds: opts.hopSeconds,
    manifest: cohort.manifest,
  });
}
