// The reader's output types and the shared helpers that turn digital samples into physical values and
// resolve a channel selection (by index or name) against a record's signal list.

import { WfdbError } from './errors';
import type { SignalSpec } from './header';
import { INVALID_SAMPLE } from './signal-file';

export interface SignalInfo {
  /** Index of the signal in the record (layout header for variable-layout records). */
  index: number;
  /** The signal description, e.g. "PLETH", "II". */
  name: string;
  units: string;
  gain: number;
  baseline: number;
  adcZero: number;
  adcResolution: number;
  /** Storage format (0 for the "~" signals of a layout header). */
  format: number;
  samplesPerFrame: number;
  /** This signal's own sampling rate: frame rate × samples per frame. */
  fs: number;
}

export interface SignalData extends SignalInfo {
  /** Digital samples; INVALID_SAMPLE marks invalid samples and declared gaps. */
  digital: Int32Array;
  /** (digital − baseline) / gain, NaN where digital is invalid. */
  physical: Float64Array;
}

export function signalInfo(spec: SignalSpec, index: number, frameFs: number): SignalInfo {
  return {
    index,
    name: spec.description,
    units: spec.units,
    gain: spec.gain,
    baseline: spec.baseline,
    adcZero: spec.adcZero,
    adcResolution: spec.adcResolution,
    format: spec.format,
    samplesPerFrame: spec.samplesPerFrame,
    fs: frameFs * spec.samplesPerFrame,
  };
}

/** Writes physical values of `digital` into `out` at `at`, with the given calibration. */
export function toPhysical(digital: Int32Array, gain: number, baseline: number, out: Float64Array, at: number): void {
  for (let i = 0; i < digital.length; i++) {
    const d = digital[i];
    out[at + i] = d === INVALID_SAMPLE ? NaN : (d - baseline) / gain;
  }
}

/**
 * Resolves a channel selection to signal indices, in the order given. Names match the signal
 * description exactly (first match wins, as in rdsamp -s NAME).
 */
export function resolveChannels(names: string[], channels: ReadonlyArray<number | string> | undefined, where: string): number[] {
  if (channels === undefined) return names.map((_, i) => i);
  return channels.map((c) => {
    if (typeof c === 'number') {
      if (!Number.isInteger(c) || c < 0 || c >= names.length) {
        throw new WfdbError(`${where}: channel index ${c} out of range (record has ${names.length} signals)`);
      }
      return c;
    }
    const i = names.indexOf(c);
    if (i < 0) throw new WfdbError(`${where}: no signal named '${c}' (signals: ${names.map((n) => `'${n}'`).join(', ')})`);
    return i;
  });
}
