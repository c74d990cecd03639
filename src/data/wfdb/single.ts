// Reading a frame range of a single-segment record: one or more signal files, each read for the
// requested signals only.

import * as path from 'node:path';
import { WfdbError } from './errors';
import type { SingleSegmentHeader } from './header';
import { framesInFile, groupSignalsByFile, readFileGroup } from './signal-file';

/** Frames in a single-segment record: from the header, or from the signal file when the header omits it. */
export function singleSegmentLength(header: SingleSegmentHeader): number {
  if (header.record.nSamples !== undefined && header.record.nSamples > 0) return header.record.nSamples;
  if (header.signals.length === 0) return 0;
  const groups = groupSignalsByFile(header.signals, path.dirname(header.path), path.basename(header.path));
  return Math.min(...groups.map((g) => framesInFile(g, `the length of record ${header.record.name}`)));
}

/**
 * Digital samples of signals `indices` (header order) for frames [frameFrom, frameTo); invalid samples
 * are INVALID_SAMPLE. Result i belongs to indices[i].
 */
export function readSingleSegment(header: SingleSegmentHeader, frameFrom: number, frameTo: number, indices: number[]): Int32Array[] {
  const headerName = path.basename(header.path);
  for (const i of indices) {
    if (i < 0 || i >= header.signals.length) throw new WfdbError(`${headerName}: no signal ${i}`);
    if (header.signals[i].fileName === '~') throw new WfdbError(`${headerName}: signal ${i} has no signal file (layout header)`);
  }
  const groups = groupSignalsByFile(header.signals, path.dirname(header.path), headerName);
  const wanted = new Set(indices);
  const bySignal = new Map<number, Int32Array>();
  for (const g of groups) {
    for (const [sig, values] of readFileGroup(g, frameFrom, frameTo, wanted, header.record.name)) bySignal.set(sig, values);
  }
  return indices.map((i) => bySignal.get(i)!);
}
