// A WindowSet on disk: one safetensors file per domain and split. Tensors: `windows` F32 [N, length],
// `hr` F32 [N], `subject_index` I32 [N], and when known each window's recording and start time
// (`record_index` I32 [N], `start_s` F64 [N]; metadata `window_seconds`); __metadata__ holds the format tag, the domain, rate and
// length, the subjects (JSON) and the manifest (JSON, with the creation time).
import * as path from 'path';
import { z } from 'zod';
import { Subject, WindowSet } from '../types';
import { readSafetensors, writeSafetensors } from '../../util/safetensors';

export const WINDOWSET_FORMAT = 'fairtune.windowset/1';

/** `<dir>/<domain>.<split>.safetensors`, the cache layout (split e.g. "all", "train", "val", "test"). */
export function windowSetCachePath(dir: string, domain: string, split: string): string {
  for (const [what, v] of [['domain', domain], ['split', split]] as const) {
    if (!/^[A-Za-z0-9_.-]+$/.test(v)) throw new Error(`windowSetCachePath: ${what} "${v}" is not a safe file name part`);
  }
  return path.join(dir, `${domain}.${split}.safetensors`);
}

/**
 * HR labels a window set may hold, bpm: a label outside it is a unit or parsing error (1e6, −50), not a heart.
 * FAIRTUNE_HR_RANGE=lo,hi widens or narrows it (default 20,300).
 */
export function hrRange(env: NodeJS.ProcessEnv = process.env): [number, number] {
  const v = env.FAIRTUNE_HR_RANGE;
  if (v === undefined || v === '') return [20, 300];
  const m = /^\s*([\d.]+)\s*,\s*([\d.]+)\s*$/.exec(v);
  const lo = m ? Number(m[1]) : NaN, hi = m ? Number(m[2]) : NaN;
  if (!(lo >= 0 && hi > lo && Number.isFinite(hi))) throw new Error(`FAIRTUNE_HR_RANGE must be 'lo,hi' in bpm with 0 ≤ lo < hi, got '${v}'`);
  return [lo, hi];
}

function checkWindowSet(ws: WindowSet): number {
  const n = ws.hr.length;
  if (!Number.isInteger(ws.length) || ws.length <= 0) throw new Error(`WindowSet: length must be a positive integer, got ${ws.length}`);
  if (ws.windows.length !== n * ws.length) throw new Error(`WindowSet: windows has ${ws.windows.length} samples, expected ${n} × ${ws.length}`);
  if (ws.subjectIndex.length !== n) throw new Error(`WindowSet: subjectIndex has ${ws.subjectIndex.length} entries, expected ${n}`);
  if (ws.times) {
    const t = ws.times;
    if (t.record.length !== n || t.start.length !== n) throw new Error(`WindowSet: times has ${t.record.length} recordings and ${t.start.length} starts, expected ${n} of each`);
    if (!(t.seconds > 0 && Number.isFinite(t.seconds))) throw new Error(`WindowSet: times.seconds must be a positive number, got ${t.seconds}`);
    for (let i = 0; i < n; i++) {
      if (!(t.record[i] >= 0)) throw new Error(`WindowSet: window ${i} has recording number ${t.record[i]}; a number ≥ 0 is required`);
      if (!(t.start[i] >= 0 && Number.isFinite(t.start[i]))) throw new Error(`WindowSet: window ${i} starts at ${t.start[i]} s; a finite time ≥ 0 is required`);
    }
  }
  const [lo, hi] = hrRange();
  for (let i = 0; i < n; i++) {
    const s = ws.subjectIndex[i];
    if (s < 0 || s >= ws.subjects.length) throw new Error(`WindowSet: window ${i} refers to subject ${s} of ${ws.subjects.length}`);
    const h = ws.hr[i];
    if (!(h >= lo && h <= hi)) {
      throw new Error(`WindowSet: window ${i} has HR label ${h} bpm, outside the physiological range [${lo}, ${hi}] (FAIRTUNE_HR_RANGE)`);
    }
  }
  return n;
}

/**
 * Save atomically. `createdAt` defaults to now; pass a fixed value to get byte-identical files from
 * identical data (the determinism tests do).
 */
export function saveWindowSet(file: string, ws: WindowSet, opts: { createdAt?: string } = {}): void {
  const n = checkWindowSet(ws);
  const manifest = { ...ws.manifest, createdAt: opts.createdAt ?? new Date().toISOString() };
  writeSafetensors(
    file,
    {
      windows: { dtype: 'F32', shape: [n, ws.length], data: ws.windows },
      hr: { dtype: 'F32', shape: [n], data: ws.hr },
      subject_index: { dtype: 'I32', shape: [n], data: ws.subjectIndex },
      ...(ws.times ? {
        record_index: { dtype: 'I32' as const, shape: [n], data: ws.times.record },
        start_s: { dtype: 'F64' as const, shape: [n], data: ws.times.start },
      } : {}),
    },
    {
      ...(ws.times ? { window_seconds: String(ws.times.seconds) } : {}),
      format: WINDOWSET_FORMAT,
      domain: ws.domain,
      fs: String(ws.fs),
      length: String(ws.length),
      subjects: JSON.stringify(ws.subjects),
      manifest: JSON.stringify(manifest),
    },
  );
}

/** The metadata a window set must carry, checked like a config: a garbled or missing field is named. */
const MetadataSchema = z.object({
  domain: z.string().min(1).regex(/^[A-Za-z0-9_.-]+$/, 'a name of letters, digits, _ . -'),
  fs: z.string().regex(/^\d+(\.\d+)?$/, 'a positive number').refine((v) => Number(v) > 0 && Number(v) <= 1e6, 'a rate in (0, 1e6] Hz'),
  length: z.string().regex(/^[1-9]\d*$/, 'a positive integer'),
  subjects: z.string(),
  manifest: z.string(),
}).passthrough();

const SubjectsSchema = z.array(z.object({ id: z.string().min(1), attributes: z.record(z.string(), z.union([z.string(), z.number()])) }).passthrough());

export function loadWindowSet(file: string): WindowSet {
  const { tensors, metadata } = readSafetensors(file);
  const bad = (msg: string): Error => new Error(`loadWindowSet: ${file}: ${msg}`);
  if (metadata.format !== WINDOWSET_FORMAT) throw bad(`not a fairtune window set (format ${JSON.stringify(metadata.format)}, expected ${WINDOWSET_FORMAT})`);
  const meta = MetadataSchema.safeParse(metadata);
  if (!meta.success) throw bad(`metadata ${meta.error.issues.map((i) => `"${i.path.join('.')}" ${i.message}`).join('; ')}`);
  const w = tensors.windows, hr = tensors.hr, si = tensors.subject_index;
  if (!w || !hr || !si) throw bad('missing one of the tensors windows, hr, subject_index');
  if (w.dtype !== 'F32' || hr.dtype !== 'F32' || si.dtype !== 'I32') throw bad('unexpected dtypes (windows F32, hr F32, subject_index I32 expected)');
  const length = Number(metadata.length);
  const fs = Number(metadata.fs);
  // Window times are optional (older files lack them) but come as a whole: both tensors and their length.
  const rec = tensors.record_index, st = tensors.start_s;
  const hasTimes = rec !== undefined || st !== undefined || metadata.window_seconds !== undefined;
  if (hasTimes) {
    if (!rec || !st || metadata.window_seconds === undefined) throw bad('window times are incomplete (record_index, start_s and the window_seconds metadata go together)');
    if (rec.dtype !== 'I32' || st.dtype !== 'F64') throw bad('unexpected dtypes of the window times (record_index I32, start_s F64 expected)');
    if (!/^\d+(\.\d+)?$/.test(metadata.window_seconds)) throw bad(`metadata "window_seconds" ${JSON.stringify(metadata.window_seconds)} is not a positive number`);
  }
  if (w.shape.length !== 2 || w.shape[1] !== length) throw bad(`windows has shape [${w.shape}], expected [N, ${length}]`);
  let subjects: Subject[];
  let manifest: Record<string, unknown>;
  try {
    subjects = JSON.parse(metadata.subjects) as Subject[];
    manifest = JSON.parse(metadata.manifest) as Record<string, unknown>;
  } catch (e) {
    throw bad(`metadata is not valid JSON (${(e as Error).message})`);
  }
  const subj = SubjectsSchema.safeParse(subjects);
  if (!subj.success) throw bad(`metadata "subjects" ${subj.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ')}`);
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) throw bad('metadata "manifest" is not an object');
  const ws: WindowSet = {
    domain: metadata.domain,
    fs,
    length,
    windows: w.data as Float32Array,
    hr: hr.data as Float32Array,
    subjectIndex: si.data as Int32Array,
    subjects,
    ...(hasTimes ? { times: { record: rec!.data as Int32Array, start: st!.data as Float64Array, seconds: Number(metadata.window_seconds) } } : {}),
    manifest,
  };
  try {
    checkWindowSet(ws);
  } catch (e) {
    throw bad((e as Error).message);
  }
  return ws;
}
