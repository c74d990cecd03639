// Multi-segment records: a master header lists segments (each a single-segment record) laid end to end.
// Fixed layout: every segment has the same signals. Variable layout (MIMIC): a zero-length layout header
// lists all signals that occur, each segment holds a subset (matched by name), and "~" segments are gaps.
// Samples a segment does not have, and every sample of a gap, are invalid — nothing else is filled in.
// Segment headers are read lazily, only for segments that overlap the requested range, because MIMIC
// downloads are often partial.

import * as path from 'node:path';
import { WfdbError } from './errors';
import { readHeaderFile, type MultiSegmentHeader, type SignalSpec, type SingleSegmentHeader } from './header';
import { framesInFile, groupSignalsByFile, INVALID_SAMPLE } from './signal-file';
import { resolveChannels, signalInfo, toPhysical, type SignalData, type SignalInfo } from './signals';
import { readSingleSegment } from './single';

function segmentHeader(master: MultiSegmentHeader, name: string, what: string): SingleSegmentHeader {
  const file = path.join(path.dirname(master.path), name);
  let h;
  try {
    h = readHeaderFile(file);
  } catch (e) {
    throw new WfdbError(`segment ${name} of record ${master.record.name} (needed for ${what}): ${(e as Error).message}`);
  }
  if (h.kind !== 'single') throw new WfdbError(`segment ${name} of record ${master.record.name} is itself multi-segment`);
  return h;
}

/** The signal list that defines a multi-segment record's channels. */
export function multiSegmentSignals(master: MultiSegmentHeader): SignalSpec[] {
  if (master.layout === 'variable') return segmentHeader(master, master.segments[0].name, 'the signal layout').signals;
  const first = master.segments.find((s) => s.name !== '~' && s.nSamples > 0);
  if (!first) return [];
  return segmentHeader(master, first.name, 'the signal list').signals;
}

/** Frame ranges of each segment within the record. */
export function segmentStarts(master: MultiSegmentHeader): number[] {
  const starts: number[] = [];
  let t = 0;
  for (const s of master.segments) {
    starts.push(t);
    t += s.nSamples;
  }
  return starts;
}

/** The most values (samples × signals) one read returns: 2^27, 1.5 GiB as Int32 digital plus Float64 physical. */
export const MAX_READ_VALUES = 2 ** 27;

export function readMultiSegment(
  master: MultiSegmentHeader,
  frameFrom: number,
  frameTo: number,
  channels: ReadonlyArray<number | string> | undefined,
): SignalData[] {
  const layoutSignals = multiSegmentSignals(master);
  const headerName = path.basename(master.path);
  const indices = resolveChannels(
    layoutSignals.map((s) => s.description),
    channels,
    headerName,
  );
  const infos: SignalInfo[] = indices.map((i) => signalInfo(layoutSignals[i], i, master.record.fs));
  // Read the overlapping segments' headers before allocating the output, so that a missing segment
  // fails fast instead of after allocating a range that may span hours.
  const starts = segmentStarts(master);
  const segHeaders = new Map<number, SingleSegmentHeader>();
  master.segments.forEach((seg, si) => {
    const s0 = Math.max(frameFrom, starts[si]);
    const s1 = Math.min(frameTo, starts[si] + seg.nSamples);
    if (s1 > s0 && seg.name !== '~') segHeaders.set(si, segmentHeader(master, seg.name, `samples ${s0}–${s1} of record ${master.record.name}`));
  });
  // Every segment's files must hold the frames asked of them before anything is allocated: a header may
  // claim 400 million samples over a file of a few kilobytes.
  for (const [si, h] of segHeaders) {
    const from = Math.max(frameFrom, starts[si]) - starts[si];
    const need = Math.min(frameTo, starts[si] + master.segments[si].nSamples) - starts[si];
    const wanted = (m: { signal: number; spec: SignalSpec }) =>
      master.layout === 'fixed' ? indices.includes(m.signal) : indices.some((li) => layoutSignals[li].description === m.spec.description);
    for (const g of groupSignalsByFile(h.signals, path.dirname(h.path), path.basename(h.path)).filter((x) => x.members.some(wanted))) {
      const what = `samples ${from}–${need} of record ${h.record.name}`;
      const have = framesInFile(g, what);
      if (have < need) throw new WfdbError(`signal file ${g.file} of segment ${master.segments[si].name} holds ${have} frames but ${need} are needed for ${what}`);
    }
  }
  const n = frameTo - frameFrom;
  const values = infos.reduce((a, info) => a + n * info.samplesPerFrame, 0);
  if (values > MAX_READ_VALUES) {
    throw new WfdbError(
      `${headerName}: samples ${frameFrom}–${frameTo} of ${infos.length} signal(s) are ${values} values (${((values * 12) / 2 ** 30).toFixed(1)} GiB ` +
      `as digital and physical arrays), more than one read may take (${MAX_READ_VALUES}); read a shorter range`,
    );
  }
  const out: SignalData[] = infos.map((info) => ({
    ...info,
    digital: new Int32Array(n * info.samplesPerFrame).fill(INVALID_SAMPLE),
    physical: new Float64Array(n * info.samplesPerFrame).fill(NaN),
  }));
  master.segments.forEach((seg, si) => {
    const s0 = Math.max(frameFrom, starts[si]);
    const s1 = Math.min(frameTo, starts[si] + seg.nSamples);
    const h = segHeaders.get(si);
    if (!h) return; // outside the range, or a declared gap (stays invalid)
    if (h.record.nSamples !== undefined && h.record.nSamples !== seg.nSamples) {
      throw new WfdbError(`segment ${seg.name}: header says ${h.record.nSamples} samples, master header ${headerName} says ${seg.nSamples}`);
    }
    // Which segment signal feeds each output channel: by position (fixed) or by name (variable).
    const sources = indices.map((li) => {
      if (master.layout === 'fixed') {
        if (h.signals.length !== layoutSignals.length) {
          throw new WfdbError(`segment ${seg.name} has ${h.signals.length} signals, but fixed-layout record ${master.record.name} has ${layoutSignals.length}`);
        }
        return li;
      }
      return h.signals.findIndex((s) => s.description === layoutSignals[li].description);
    });
    const present = sources.filter((s) => s >= 0);
    if (present.length === 0) return;
    const local = readSingleSegment(h, s0 - starts[si], s1 - starts[si], present);
    sources.forEach((src, k) => {
      if (src < 0) return;
      const spec = h.signals[src];
      const o = out[k];
      if (spec.samplesPerFrame !== o.samplesPerFrame) {
        throw new WfdbError(`segment ${seg.name}: signal '${spec.description}' has ${spec.samplesPerFrame} samples per frame, the record's layout ${o.samplesPerFrame}`);
      }
      const d = local[present.indexOf(src)];
      const at = (s0 - frameFrom) * o.samplesPerFrame;
      toPhysical(d, spec.gain, spec.baseline, o.physical, at);
      // Digital output is expressed in the record's (layout's) calibration, as the WFDB library does
      // when a segment's gain or baseline differs from the layout's.
      const same = spec.gain === o.gain && spec.baseline === o.baseline;
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        o.digital[at + i] = same || v === INVALID_SAMPLE ? v : Math.round(((v - spec.baseline) * o.gain) / spec.gain + o.baseline);
      }
    });
  });
  return out;
}
