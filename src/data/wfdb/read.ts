// The WFDB reader's entry point: read a record (single- or multi-segment) by path, for a frame range and
// a channel selection, returning digital and physical samples per signal.

import * as path from 'node:path';
import { WfdbError } from './errors';
import { readHeaderFile, type Header } from './header';
import { multiSegmentSignals, readMultiSegment } from './multisegment';
import { resolveChannels, signalInfo, toPhysical, type SignalData, type SignalInfo } from './signals';
import { readSingleSegment, singleSegmentLength } from './single';

export interface ReadOptions {
  /** First frame (inclusive), default 0. */
  sampFrom?: number;
  /** Last frame (exclusive), default the record's length. */
  sampTo?: number;
  /** Signals by index or description, output in this order; default all. */
  channels?: ReadonlyArray<number | string>;
}

export interface WfdbRecord {
  name: string;
  headerPath: string;
  /** Frame rate in Hz (a signal with k samples per frame runs at k · fs). */
  fs: number;
  /** Frames in the whole record. */
  nSamples: number;
  sampFrom: number;
  sampTo: number;
  baseTimeSeconds?: number;
  baseDateDays?: number;
  comments: string[];
  signals: SignalData[];
}

/** Frames in a record (from the header, or the signal file for single-segment headers that omit it). */
export function recordLength(header: Header): number {
  return header.kind === 'multi' ? header.record.nSamples ?? 0 : singleSegmentLength(header);
}

/** Signals of a record without reading samples (layout signals for variable-layout records). */
export function recordSignals(header: Header): SignalInfo[] {
  const specs = header.kind === 'multi' ? multiSegmentSignals(header) : header.signals;
  return specs.map((s, i) => signalInfo(s, i, header.record.fs));
}

/**
 * Reads a record given as "dir/name" (or "dir/name.hea"), like `rdsamp -r`. Multi-segment records are
 * read through their master header; gaps and signals absent from a segment come back invalid
 * (INVALID_SAMPLE / NaN).
 */
export function readRecord(recordPath: string, options: ReadOptions = {}): WfdbRecord {
  const header = readHeaderFile(recordPath);
  return readRecordWithHeader(header, options);
}

export function readRecordWithHeader(header: Header, options: ReadOptions = {}): WfdbRecord {
  const headerName = path.basename(header.path);
  const nSamples = recordLength(header);
  const sampFrom = options.sampFrom ?? 0;
  const sampTo = options.sampTo ?? nSamples;
  if (!Number.isInteger(sampFrom) || !Number.isInteger(sampTo) || sampFrom < 0 || sampTo < sampFrom) {
    throw new WfdbError(`${headerName}: invalid sample range ${sampFrom}–${sampTo}`);
  }
  if (sampTo > nSamples) {
    throw new WfdbError(`${headerName}: sample range ${sampFrom}–${sampTo} runs past the end of record ${header.record.name} (${nSamples} samples)`);
  }
  let signals: SignalData[];
  if (header.kind === 'multi') {
    signals = readMultiSegment(header, sampFrom, sampTo, options.channels);
  } else {
    const indices = resolveChannels(
      header.signals.map((s) => s.description),
      options.channels,
      headerName,
    );
    const digital = readSingleSegment(header, sampFrom, sampTo, indices);
    signals = indices.map((idx, k) => {
      const spec = header.signals[idx];
      const physical = new Float64Array(digital[k].length);
      toPhysical(digital[k], spec.gain, spec.baseline, physical, 0);
      return { ...signalInfo(spec, idx, header.record.fs), digital: digital[k], physical };
    });
  }
  return {
    name: header.record.name,
    headerPath: header.path,
    fs: header.record.fs,
    nSamples,
    sampFrom,
    sampTo,
    baseTimeSeconds: header.record.baseTimeSeconds,
    baseDateDays: header.record.baseDateDays,
    comments: header.comments,
    signals,
  };
}
