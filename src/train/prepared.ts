// A WindowSet made ready for the model once: windows min–max scaled, labels and group ids as typed
// arrays, so that building a batch is a copy of rows.
import type { WindowSet } from '../data/types';
import { minMaxScaleWindows } from '../model/input';

export interface PreparedSet {
  n: number;
  /** Samples per window (T·P). */
  length: number;
  /** [n · length] min–max scaled windows. */
  x: Float32Array;
  hr: Float32Array;
  groupOf: Int32Array;
  subjectIndex: Int32Array;
}

export function prepareWindows(ws: WindowSet, groupOf: Int32Array): PreparedSet {
  const n = ws.hr.length;
  if (ws.windows.length !== n * ws.length) throw new Error(`prepareWindows: ${ws.windows.length} samples for ${n} windows of ${ws.length}`);
  if (groupOf.length !== n) throw new Error(`prepareWindows: ${groupOf.length} group ids for ${n} windows`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(ws.hr[i])) throw new Error(`prepareWindows: window ${i} of ${ws.domain} has HR label ${ws.hr[i]}`);
  }
  return { n, length: ws.length, x: minMaxScaleWindows(ws.windows, ws.length), hr: ws.hr, groupOf, subjectIndex: ws.subjectIndex };
}

/** Copies the rows `idx` into batch arrays (reused across steps). */
export function gatherBatch(
  set: PreparedSet, idx: ArrayLike<number>, out: { x: Float32Array; hr: Float32Array; group: Float32Array },
): void {
  const L = set.length;
  for (let b = 0; b < idx.length; b++) {
    const i = idx[b];
    out.x.set(set.x.subarray(i * L, (i + 1) * L), b * L);
    out.hr[b] = set.hr[i];
    out.group[b] = set.groupOf[i];
  }
}
