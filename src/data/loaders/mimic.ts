// MIMIC-III waveform database matched subset (and MIMIC-II style records): multi-segment WFDB records at
// 125 Hz with a PLETH channel, "~" gaps, numerics records (<record>n.hea) beside them. A recording is a
// run of valid PLETH samples (gaps and invalid samples split runs; nothing is filled in). Reference HR:
// the numerics record's HR channel when present, else R peaks detected in an ECG lead of the same record.
// Gender and age come from a CSV (subject_id, gender, age) or, for MIMIC-II records, header comments.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Attributes, Recording, Subject } from '../types';
import { readHeaderFile, type Header } from '../wfdb/header';
import { readRecordWithHeader, recordLength, recordSignals } from '../wfdb/read';
import { segmentStarts } from '../wfdb/multisegment';
import { findColumn, readCsv } from './csv';
import { describeLabels, ecgLabels } from './ecg-labels';
import { DatasetFolderError } from './errors';
import type { LoadedDataset } from './types';

export interface MimicOptions {
  /** CSV with columns subject_id, gender, age (any case; extra columns ignored). */
  attributesCsv?: string;
  /** Shortest run of valid PLETH kept, in seconds (default 10). */
  minSeconds?: number;
}

const ECG_LEADS = ['II', 'I', 'III', 'V', 'AVR', 'AVL', 'AVF', 'MCL1', 'MCL'];

function walk(dir: string, out: string[], depth = 0): void {
  if (depth > 4) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out, depth + 1);
    else if (e.name.endsWith('.hea')) out.push(p);
  }
}

/** Top-level records: headers that are not segments, layouts or numerics of another record. */
function topLevelRecords(headers: string[], report: string[]): { file: string; header: Header }[] {
  const parsed: { file: string; header: Header }[] = [];
  for (const file of headers) {
    try {
      parsed.push({ file, header: readHeaderFile(file) });
    } catch (e) {
      report.push(`${(e as Error).message}; skipped`);
    }
  }
  const inner = new Set<string>();
  const names = new Set(parsed.map((p) => path.join(path.dirname(p.file), p.header.record.name)));
  for (const { file, header } of parsed) {
    if (header.kind === 'multi') for (const s of header.segments) if (s.name !== '~') inner.add(path.join(path.dirname(file), s.name));
  }
  return parsed.filter(({ file, header }) => {
    const key = path.join(path.dirname(file), header.record.name);
    if (inner.has(key) || header.record.name.endsWith('_layout')) return false;
    // "<record>n" beside "<record>" is the numerics record.
    if (header.record.name.endsWith('n') && names.has(key.slice(0, -1))) return false;
    return true;
  });
}

function subjectIdOf(file: string, recordName: string): string {
  const m = /^(p\d{6}|s\d{5})/.exec(recordName) ?? /^(p\d{6}|s\d{5})$/.exec(path.basename(path.dirname(file)));
  return m ? m[1] : recordName;
}

function normSubject(id: string): string {
  return id.replace(/^[ps]/i, '').replace(/^0+(?=\d)/, '');
}

function loadAttributes(file: string | undefined, report: string[]): Map<string, Attributes> {
  const out = new Map<string, Attributes>();
  if (!file) return out;
  const t = readCsv(file, ['subject_id', 'gender']);
  const cId = findColumn(t.columns, 'subject_id')!;
  const cG = findColumn(t.columns, 'gender')!;
  const cA = findColumn(t.columns, 'age');
  t.rows.forEach((row, i) => {
    const a: Attributes = {};
    const g = (row[cG] ?? '').trim().toUpperCase();
    if (g === 'M' || g === 'F') a.gender = g;
    else report.push(`${path.basename(file)} row ${i + 2}: gender '${row[cG]}' is not M or F`);
    if (cA) {
      const age = Number(row[cA]);
      if (row[cA] !== undefined && row[cA] !== '' && Number.isFinite(age)) a.age = age;
    }
    out.set(normSubject(row[cId] ?? ''), a);
  });
  return out;
}

function attributesFromComments(comments: string[]): Attributes {
  const a: Attributes = {};
  for (const c of comments) {
    const age = /<age>:\s*(\d+(?:\.\d+)?)/.exec(c);
    const sex = /<sex>:\s*([MF])\b/i.exec(c);
    if (age) a.age = Number(age[1]);
    if (sex) a.gender = sex[1].toUpperCase();
  }
  return a;
}

/** HR samples of the numerics record, as absolute seconds from the waveform record's start. */
function numericsHr(header: Header, recordFile: string, report: string[]): { t: number[]; hr: number[] } | undefined {
  const nFile = path.join(path.dirname(recordFile), `${header.record.name}n.hea`);
  if (!fs.existsSync(nFile)) return undefined;
  try {
    const nh = readHeaderFile(nFile);
    const names = recordSignals(nh).map((s) => s.name);
    if (!names.includes('HR')) {
      report.push(`${header.record.name}: numerics record has no HR channel`);
      return undefined;
    }
    const r = readRecordWithHeader(nh, { channels: ['HR'] });
    // Align the two records by their base times (same day in MIMIC; wrap past midnight).
    let offset = 0;
    if (nh.record.baseTimeSeconds !== undefined && header.record.baseTimeSeconds !== undefined) {
      offset = nh.record.baseTimeSeconds - header.record.baseTimeSeconds;
      if (nh.record.baseDateDays !== undefined && header.record.baseDateDays !== undefined) {
        offset += (nh.record.baseDateDays - header.record.baseDateDays) * 86400;
      }
    }
    const t: number[] = [];
    const hr: number[] = [];
    r.signals[0].physical.forEach((v, k) => {
      if (Number.isFinite(v) && v > 0 && v < 300) {
        t.push(offset + k / nh.record.fs);
        hr.push(v);
      }
    });
    return { t, hr };
  } catch (e) {
    report.push(`${header.record.name}: numerics record unreadable (${(e as Error).message}); using the ECG`);
    return undefined;
  }
}

/** Invalid stretches up to this long inside valid signal are clipping at the ADC floor, not gaps. */
const CLIP_MAX_S = 0.1;

/**
 * MIMIC's 8-bit signals store their lowest code as the WFDB invalid value, so an ECG whose S wave or a
 * PLETH whose trough runs below the ADC range reads as a few "invalid" samples per beat. Interior runs
 * of at most `maxLen` NaN samples are set to the lowest valid value of the array (within one ADC step
 * of the floor); longer runs and runs at the ends stay NaN (real gaps). Returns the samples filled.
 */
export function fillClipped(x: Float64Array, maxLen: number): number {
  let lo = Infinity;
  for (const v of x) if (v < lo) lo = v;
  if (!Number.isFinite(lo)) return 0;
  let filled = 0;
  let i = 0;
  while (i < x.length) {
    if (!Number.isNaN(x[i])) {
      i++;
      continue;
    }
    let j = i;
    while (j < x.length && Number.isNaN(x[j])) j++;
    if (i > 0 && j < x.length && j - i <= maxLen) {
      x.fill(lo, i, j);
      filled += j - i;
    }
    i = j;
  }
  return filled;
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

interface Run {
  from: number;
  to: number;
}

function validRuns(x: Float64Array, offset: number): Run[] {
  const runs: Run[] = [];
  let start = -1;
  for (let i = 0; i <= x.length; i++) {
    const ok = i < x.length && Number.isFinite(x[i]);
    if (ok && start < 0) start = i;
    if (!ok && start >= 0) {
      runs.push({ from: offset + start, to: offset + i });
      start = -1;
    }
  }
  return runs;
}

export async function loadMimic(dir: string, options: MimicOptions = {}): Promise<LoadedDataset> {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new DatasetFolderError(`MIMIC folder not found: ${root}`);
  const report: string[] = [];
  const attrs = loadAttributes(options.attributesCsv, report);
  const minSeconds = options.minSeconds ?? 10;
  const headers: string[] = [];
  walk(root, headers);
  if (headers.length === 0) throw new DatasetFolderError(`MIMIC: no WFDB headers (.hea) in ${root}`);
  const records = topLevelRecords(headers.sort(), report);
  const recordings: Recording[] = [];
  const subjectAttrs = new Map<string, Attributes>();
  let short = 0;
  for (const { file, header } of records) {
    const name = header.record.name;
    let signals;
    try {
      signals = recordSignals(header);
    } catch (e) {
      report.push(`${name}: ${(e as Error).message}; skipped`);
      continue;
    }
    const names = signals.map((s) => s.name);
    const pleth = names.findIndex((n) => n.toUpperCase() === 'PLETH');
    if (pleth < 0) {
      report.push(`${name}: no PLETH channel (signals: ${names.join(', ')}); skipped`);
      continue;
    }
    // Every ECG lead present: labels need beats that the leads agree on.
    const leadNames = ECG_LEADS.filter((l) => names.includes(l));
    const channels = [pleth, ...leadNames.map((l) => names.indexOf(l))];
    const fs0 = header.record.fs * signals[pleth].samplesPerFrame;
    const numerics = numericsHr(header, file, report);
    const subjectId = subjectIdOf(file, name);
    // Read segment by segment so that one missing segment costs only its own samples.
    const pieces =
      header.kind === 'multi'
        ? header.segments.map((s, i) => ({ name: s.name, from: segmentStarts(header)[i], to: segmentStarts(header)[i] + s.nSamples }))
        : [{ name, from: 0, to: recordLength(header) }];
    const runs: { run: Run; pleth: Float64Array; ecg: Float64Array[] }[] = [];
    const unreadable: { segment: string; message: string }[] = [];
    let clipped = 0;
    for (const p of pieces) {
      if (p.name === '~' || p.to <= p.from || p.name.endsWith('_layout')) continue;
      let rec;
      try {
        rec = readRecordWithHeader(header, { sampFrom: p.from, sampTo: p.to, channels });
      } catch (e) {
        unreadable.push({ segment: p.name, message: (e as Error).message });
        continue;
      }
      for (const s of rec.signals) clipped += fillClipped(s.physical, Math.round(CLIP_MAX_S * fs0));
      for (const run of validRuns(rec.signals[0].physical, p.from)) {
        const a = run.from - p.from;
        const b = run.to - p.from;
        const pl = rec.signals[0].physical.slice(a, b);
        const ec = rec.signals.slice(1).map((s) => s.physical.slice(a, b));
        const prev = runs[runs.length - 1];
        // PLETH continuing across a segment boundary (the signal set changed, not the pulse) is one run.
        if (prev && prev.run.to === run.from && prev.ecg.length === ec.length) {
          prev.run.to = run.to;
          prev.pleth = concat(prev.pleth, pl);
          prev.ecg = prev.ecg.map((e, k) => concat(e, ec[k]));
        } else runs.push({ run, pleth: pl, ecg: ec });
      }
    }
    if (clipped > 0) report.push(`${name}: ${clipped} samples at the format's invalid code in runs ≤ ${CLIP_MAX_S * 1000} ms read as clipping (set to the lowest valid value), not gaps`);
    if (unreadable.length > 0) {
      // Partial downloads are common: one line per record, naming the segments and the first reason.
      const list = unreadable.length <= 4 ? unreadable.map((u) => u.segment).join(', ') : `${unreadable[0].segment} … ${unreadable[unreadable.length - 1].segment}`;
      report.push(`${name}: ${unreadable.length} segment(s) unreadable and skipped (${list}); first: ${unreadable[0].message}`);
    }
    for (const { run, pleth: x, ecg } of runs) {
      const dur = x.length / fs0;
      if (dur < minSeconds) {
        short++;
        continue;
      }
      const t0 = run.from / header.record.fs;
      let t: number[] = [];
      let hr: number[] = [];
      let source = '';
      let noLabel = numerics ? 'no numerics HR inside' : 'no numerics and no ECG';
      if (numerics) {
        numerics.t.forEach((tt, k) => {
          if (tt >= t0 && tt < t0 + dur) {
            t.push(tt - t0);
            hr.push(numerics.hr[k]);
          }
        });
        source = 'numerics';
      } else if (ecg.length > 0) {
        const present = ecg.map((e, k) => [e, leadNames[k]] as const).filter(([e]) => e.some(Number.isFinite));
        if (present.length === 0) {
          noLabel = `ECG ${leadNames.join(', ')} absent from this run's segments`;
        } else {
          const labels = ecgLabels(present.map(([e]) => e), x, fs0);
          t = labels.t;
          hr = labels.hr;
          source = `ecg:${present.map(([, n]) => n).join('+')}`;
          const where = `${name}: PLETH run at ${t0.toFixed(1)}–${(t0 + dur).toFixed(1)} s`;
          if (labels.considered > 0) report.push(`${where}: ${describeLabels(labels)}`);
          noLabel = labels.considered === 0 ? 'the ECG covers no whole 8 s label window' : 'every ECG label window failed the quality checks';
        }
      }
      if (t.length === 0) {
        report.push(`${name}: PLETH run at ${t0.toFixed(1)}–${(t0 + dur).toFixed(1)} s has no reference HR (${noLabel}); skipped`);
        continue;
      }
      const order = t.map((_, i) => i).sort((i, j) => t[i] - t[j]);
      t = order.map((i) => t[i]);
      hr = order.map((i) => hr[i]);
      recordings.push({
        subjectId,
        recordId: `${name}@${run.from}`,
        fs: fs0,
        signal: Float32Array.from(x),
        hrTrack: { t: Float64Array.from(t), hr: Float64Array.from(hr) },
        meta: { record: name, startSample: run.from, hrSource: source },
      });
      if (!subjectAttrs.has(subjectId)) {
        const a = attrs.get(normSubject(subjectId)) ?? attributesFromComments(header.comments);
        subjectAttrs.set(subjectId, a);
        if (Object.keys(a).length === 0) report.push(`subject ${subjectId}: no gender/age (not in the attributes CSV nor the header)`);
      }
    }
  }
  if (short > 0) report.push(`${short} PLETH runs shorter than ${minSeconds} s skipped`);
  if (recordings.length === 0) {
    throw new DatasetFolderError(`MIMIC: no usable PLETH recordings with a reference HR in ${root}${report.length ? `:\n  ${report.slice(0, 30).join('\n  ')}` : ''}`);
  }
  const subjects: Subject[] = [...subjectAttrs].map(([id, attributes]) => ({ id, attributes }));
  return { dataset: 'mimic', root, subjects, recordings, report };
}
