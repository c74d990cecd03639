// What every real-dataset loader returns: subjects with attributes, recordings at the source's native
// rate (the windowing pipeline resamples them), and a human-readable report of everything that was
// repaired, skipped or found missing, so nothing is dropped silently.

import type { Recording, Subject } from '../types';

export interface LoadedDataset {
  /** "dalia" | "butppg" | "mimic". */
  dataset: string;
  /** The folder that was read (absolute). */
  root: string;
  subjects: Subject[];
  recordings: Recording[];
  /** One line per repair, skip or warning, in the order they happened. */
  report: string[];
}
