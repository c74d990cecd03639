// Reading a range of frames from one signal file: the signals that share the file are interleaved frame
// by frame (each contributing its samples-per-frame), possibly skewed, behind an optional byte offset.
// Only the bytes the range needs are read, so long MIMIC segments cost memory for what is asked only.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { WfdbError } from './errors';
import { bytesForSamples, decodeStream, invalidValue, packing, samplesInBytes } from './formats';
import type { SignalSpec } from './header';

/** Digital value standing for an invalid sample (or a gap) in digital output; physical output uses NaN. */
export const INVALID_SAMPLE = -2147483648;

/** The signals stored in one file, in frame order. */
export interface FileGroup {
  /** Absolute path of the signal file. */
  file: string;
  format: number;
  byteOffset: number;
  /** Samples in one frame of this file (sum of the members' samples per frame). */
  samplesPerFrame: number;
  members: { signal: number; offset: number; spec: SignalSpec }[];
}

/** Groups a header's signals by signal file, in header order. */
export function groupSignalsByFile(signals: SignalSpec[], dir: string, headerName: string): FileGroup[] {
  const groups: FileGroup[] = [];
  const byName = new Map<string, FileGroup>();
  signals.forEach((spec, i) => {
    let g = byName.get(spec.fileName);
    if (!g) {
      g = { file: path.resolve(dir, spec.fileName), format: spec.format, byteOffset: spec.byteOffset, samplesPerFrame: 0, members: [] };
      byName.set(spec.fileName, g);
      groups.push(g);
    } else if (g.format !== spec.format) {
      throw new WfdbError(`${headerName}: signals ${g.members[0].signal} and ${i} share ${spec.fileName} but have formats ${g.format} and ${spec.format}`);
    }
    g.members.push({ signal: i, offset: g.samplesPerFrame, spec });
    g.samplesPerFrame += spec.samplesPerFrame;
  });
  return groups;
}

function fileSize(file: string, what: string): number {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new WfdbError(`signal file ${file} (needed for ${what}) is ${st.isDirectory() ? 'a directory' : 'not a regular file'}`);
    return st.size;
  } catch (e) {
    if (e instanceof WfdbError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new WfdbError(`signal file not found: ${file} (needed for ${what})`);
    throw new WfdbError(`cannot read signal file ${file} (needed for ${what}): ${(e as Error).message}`);
  }
}

/** Complete frames stored in the group's file (used when a header omits the sample count). */
export function framesInFile(group: FileGroup, what: string): number {
  const size = fileSize(group.file, what);
  return Math.floor(samplesInBytes(group.format, Math.max(0, size - group.byteOffset)) / group.samplesPerFrame);
}

/**
 * Reads frames [frameFrom, frameTo) of the requested member signals. Returns, per requested signal
 * index, its digital samples ((frameTo − frameFrom) · samplesPerFrame values) with the format's invalid
 * value replaced by INVALID_SAMPLE. A missing or short file throws, naming the file and the range.
 */
export function readFileGroup(
  group: FileGroup,
  frameFrom: number,
  frameTo: number,
  wanted: Set<number>,
  recordName: string,
): Map<number, Int32Array> {
  const members = group.members.filter((m) => wanted.has(m.signal));
  const out = new Map<number, Int32Array>();
  if (members.length === 0) return out;
  const what = `samples ${frameFrom}–${frameTo} of record ${recordName}`;
  const size = fileSize(group.file, what);
  const spfTotal = group.samplesPerFrame;
  const availableFrames = Math.floor(samplesInBytes(group.format, Math.max(0, size - group.byteOffset)) / spfTotal);
  if (availableFrames < frameTo) {
    throw new WfdbError(
      `signal file ${group.file} is truncated: it holds ${availableFrames} frames (${size} bytes) but ${what} were asked for`,
    );
  }
  // Format 8 stores first differences, so the values at frameFrom depend on every earlier frame.
  const frameStart = group.format === 8 ? 0 : frameFrom;
  const maxSkew = Math.max(...members.map((m) => m.spec.skew));
  const frameEnd = Math.min(frameTo + maxSkew, availableFrames);
  const unit = packing(group.format);
  const streamStart = frameStart * spfTotal;
  const aligned = Math.floor(streamStart / unit.samples) * unit.samples;
  const lead = streamStart - aligned;
  const nStream = frameEnd * spfTotal - aligned;
  const byteStart = group.byteOffset + (aligned / unit.samples) * unit.bytes;
  const nBytes = bytesForSamples(group.format, nStream);
  const bytes = new Uint8Array(nBytes);
  const fd = fs.openSync(group.file, 'r');
  try {
    let done = 0;
    while (done < nBytes) {
      const got = fs.readSync(fd, bytes, done, nBytes - done, byteStart + done);
      if (got === 0) throw new WfdbError(`signal file ${group.file} ended early while reading ${what}`);
      done += got;
    }
  } finally {
    fs.closeSync(fd);
  }
  const stream = new Int32Array(nStream);
  decodeStream(group.format, bytes, nStream, stream);
  if (group.format === 8) {
    // Integrate the differences per signal, starting from each signal's initial value.
    for (const m of group.members) {
      let acc = m.spec.initialValue;
      for (let f = 0; f < frameEnd; f++) {
        const base = lead + f * spfTotal + m.offset;
        for (let k = 0; k < m.spec.samplesPerFrame; k++) {
          acc += stream[base + k];
          stream[base + k] = acc;
        }
      }
    }
  }
  const bad = invalidValue(group.format);
  const nFrames = frameTo - frameFrom;
  for (const m of members) {
    const spf = m.spec.samplesPerFrame;
    const values = new Int32Array(nFrames * spf);
    for (let f = 0; f < nFrames; f++) {
      const src = frameFrom + f + m.spec.skew;
      for (let k = 0; k < spf; k++) {
        let v = INVALID_SAMPLE;
        // A skewed signal runs past the end of the file: the WFDB library reports those samples invalid.
        if (src < frameEnd) {
          v = stream[lead + (src - frameStart) * spfTotal + m.offset + k];
          if (v === bad) v = INVALID_SAMPLE;
        }
        values[f * spf + k] = v;
      }
    }
    out.set(m.signal, values);
  }
  return out;
}
