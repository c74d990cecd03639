// Time conversions in the conventions of the WFDB Software Package, so that a range given in seconds
// selects exactly the samples `rdsamp -f T -t T` selects.

import { WfdbError } from './errors';

/** Seconds → sample number, rounding half up as WFDB's strtim does. */
export function secondsToSample(seconds: number, fs: number): number {
  if (!Number.isFinite(seconds) || seconds < 0) throw new WfdbError(`time must be a non-negative number of seconds, got ${seconds}`);
  return Math.floor(seconds * fs + 0.5);
}

/**
 * Parses a WFDB base time "[[HH:]MM:]SS[.sss]" into seconds after midnight. Returns undefined for an
 * empty field; throws for a malformed one.
 */
export function parseBaseTime(text: string | undefined, where: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const parts = text.split(':');
  if (parts.length > 3 || parts.some((p) => !/^\d+(\.\d*)?$/.test(p))) {
    throw new WfdbError(`${where}: malformed base time '${text}' (expected [[HH:]MM:]SS[.sss])`);
  }
  // Only the leading field may exceed its clock range (a base time of 90:00 is 90 minutes); hours of a
  // time of day stop at 23, minutes and seconds after the first field at 59.
  const limits = parts.length === 3 ? [24, 60, 60] : parts.length === 2 ? [Infinity, 60] : [Infinity];
  parts.forEach((p, i) => {
    if (!(Number(p) < limits[i])) {
      throw new WfdbError(`${where}: base time '${text}' has ${['hours', 'minutes', 'seconds'].slice(3 - parts.length)[i]} ${p}, out of range`);
    }
  });
  let seconds = 0;
  for (const p of parts) seconds = seconds * 60 + Number(p);
  return seconds;
}

/** Parses a WFDB base date "DD/MM/YYYY" into days since 1970-01-01 (undefined when absent). */
export function parseBaseDate(text: string | undefined, where: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{1,4})$/.exec(text);
  if (!m) throw new WfdbError(`${where}: malformed base date '${text}' (expected DD/MM/YYYY)`);
  const ms = Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1]));
  // Date.UTC maps years 0–99 to 1900–1999; MIMIC's shifted years (2100s, 2800s) are unaffected.
  return Math.round(ms / 86400000);
}
