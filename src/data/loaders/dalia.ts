// PPG-DaLiA loader: PPG_FieldStudy/S1..S15/S{n}.pkl, Python 2 pickles holding
//   signal → wrist → BVP   (64 Hz, shape [N, 1])
//   label                  (reference HR per 8 s window, shifted by 2 s: window i centred at 4 + 2i s)
//   questionnaire          (Gender ' m'/' f', AGE, HEIGHT, WEIGHT, SKIN, SPORT)
//   subject                ("S1" …)
// Only the wrist BVP and the labels are used: the chest signals and accelerometers stay in the pickle.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Attributes, Recording, Subject } from '../types';
import { DatasetFolderError } from './errors';
import { dictEntries, NumpyArray, textOf, unpickle } from './numpy-pickle';
import type { LoadedDataset } from './types';

export const DALIA_BVP_FS = 64;
const WINDOW_S = 8;
const SHIFT_S = 2;
const EXPECTED_SUBJECTS = 15;

function subjectFolders(root: string): { name: string; n: number }[] {
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^S\d+$/.test(e.name))
    .map((e) => ({ name: e.name, n: Number(e.name.slice(1)) }))
    .sort((a, b) => a.n - b.n);
}

function findRoot(dir: string): string {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new DatasetFolderError(`PPG-DaLiA folder not found: ${abs}`);
  for (const cand of [abs, path.join(abs, 'PPG_FieldStudy'), path.join(abs, 'data', 'PPG_FieldStudy')]) {
    if (fs.existsSync(cand) && fs.statSync(cand).isDirectory() && subjectFolders(cand).length > 0) return cand;
  }
  throw new DatasetFolderError(`PPG-DaLiA: no subject folders S1..S${EXPECTED_SUBJECTS} in ${abs} or ${path.join(abs, 'PPG_FieldStudy')}`);
}

function get(map: Map<string, unknown> | undefined, key: string, where: string): unknown {
  if (!map) throw new Error(`${where} is not a dict`);
  if (!map.has(key)) throw new Error(`${where} has no '${key}' (keys: ${[...map.keys()].join(', ')})`);
  return map.get(key);
}

function asArray(v: unknown, where: string): NumpyArray {
  if (!(v instanceof NumpyArray)) throw new Error(`${where} is not a numpy array`);
  return v;
}

function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  const t = textOf(v);
  if (t !== undefined && t.trim() !== '' && Number.isFinite(Number(t))) return Number(t);
  return undefined;
}

function questionnaire(q: Map<string, unknown> | undefined, sid: string, report: string[]): Attributes {
  const a: Attributes = {};
  if (!q) {
    report.push(`${sid}: no questionnaire in the pickle; attributes unknown`);
    return a;
  }
  // Keys are matched case-insensitively: DaLiA uses 'Gender' next to upper-case 'AGE', 'SKIN', ….
  const lookup = new Map([...q].map(([k, v]) => [k.trim().toLowerCase(), v]));
  const g = textOf(lookup.get('gender'))?.trim().toLowerCase();
  if (g === 'm' || g === 'male') a.gender = 'M';
  else if (g === 'f' || g === 'female') a.gender = 'F';
  else report.push(`${sid}: questionnaire Gender '${textOf(lookup.get('gender')) ?? String(lookup.get('gender'))}' is not ' m' or ' f'`);
  for (const [key, attr] of [['age', 'age'], ['skin', 'skin'], ['height', 'height'], ['weight', 'weight'], ['sport', 'sport']] as const) {
    const v = numberOf(lookup.get(key));
    if (v !== undefined) a[attr] = v;
    else report.push(`${sid}: questionnaire ${key.toUpperCase()} missing or not a number`);
  }
  if (typeof a.skin === 'number' && !(Number.isInteger(a.skin) && a.skin >= 1 && a.skin <= 6)) {
    report.push(`${sid}: SKIN ${a.skin} is not a Fitzpatrick type 1–6; dropped`);
    delete a.skin;
  }
  return a;
}

/** Reads one subject's pickle into a Recording and a Subject (throws with the reason when malformed). */
export function readDaliaPickle(file: string, folderName: string, report: string[]): { subject: Subject; recording: Recording } {
  const top = dictEntries(unpickle(fs.readFileSync(file)));
  const signal = dictEntries(get(top, 'signal', 'the pickle'));
  const wrist = dictEntries(get(signal, 'wrist', "'signal'"));
  const bvp = asArray(get(wrist, 'BVP', "'signal' → 'wrist'"), "'signal' → 'wrist' → 'BVP'");
  if (!(bvp.shape.length === 1 || (bvp.shape.length === 2 && bvp.shape[1] === 1))) {
    throw new Error(`wrist BVP has shape [${bvp.shape.join(', ')}], expected [N, 1]`);
  }
  const label = asArray(get(top, 'label', 'the pickle'), "'label'");
  if (label.shape.length !== 1 && !(label.shape.length === 2 && label.shape[1] === 1)) {
    throw new Error(`'label' has shape [${label.shape.join(', ')}], expected [M]`);
  }
  const sig = Float32Array.from(bvp.toFloat64());
  const nonFinite = sig.reduce((n, v) => n + (Number.isFinite(v) ? 0 : 1), 0);
  if (nonFinite > 0) throw new Error(`wrist BVP has ${nonFinite} non-finite samples`);
  const hr = label.toFloat64();
  const t = Float64Array.from(hr, (_, i) => WINDOW_S / 2 + SHIFT_S * i);
  const duration = sig.length / DALIA_BVP_FS;
  const expected = Math.floor((duration - WINDOW_S) / SHIFT_S) + 1;
  if (Math.abs(expected - hr.length) > 1) {
    report.push(`${folderName}: ${hr.length} HR labels for ${duration.toFixed(1)} s of BVP (expected about ${expected})`);
  }
  const badHr = hr.reduce((n, v) => n + (v > 0 && v < 300 ? 0 : 1), 0);
  if (badHr > 0) throw new Error(`'label' has ${badHr} missing or implausible HR values`);
  let sid = folderName;
  const declared = top?.has('subject') ? textOf(top.get('subject')) : undefined;
  if (declared === undefined) report.push(`${folderName}: the pickle has no 'subject'; using the folder name`);
  else if (declared.trim() !== folderName) report.push(`${folderName}: the pickle says subject '${declared}'; using the folder name`);
  else sid = declared.trim();
  const attributes = questionnaire(top?.has('questionnaire') ? dictEntries(top.get('questionnaire')) : undefined, sid, report);
  return {
    subject: { id: sid, attributes },
    recording: { subjectId: sid, recordId: sid, fs: DALIA_BVP_FS, signal: sig, hrTrack: { t, hr }, meta: { source: path.basename(file) } },
  };
}

export async function loadDalia(dir: string): Promise<LoadedDataset> {
  const root = findRoot(dir);
  const report: string[] = [];
  const folders = subjectFolders(root);
  const present = new Set(folders.map((f) => f.n));
  const missing = Array.from({ length: EXPECTED_SUBJECTS }, (_, i) => i + 1).filter((n) => !present.has(n));
  if (missing.length > 0) report.push(`subject folders missing: ${missing.map((n) => `S${n}`).join(', ')}`);
  const subjects: Subject[] = [];
  const recordings: Recording[] = [];
  for (const f of folders) {
    const file = path.join(root, f.name, `${f.name}.pkl`);
    if (!fs.existsSync(file)) {
      report.push(`${f.name}: missing ${file}, skipped`);
      continue;
    }
    try {
      const { subject, recording } = readDaliaPickle(file, f.name, report);
      subjects.push(subject);
      recordings.push(recording);
    } catch (e) {
      report.push(`${f.name}: malformed ${path.basename(file)}: ${(e as Error).message}, skipped`);
    }
  }
  if (recordings.length === 0) {
    throw new DatasetFolderError(`PPG-DaLiA: no usable subject in ${root}${report.length ? `:\n  ${report.join('\n  ')}` : ''}`);
  }
  return { dataset: 'dalia', root, subjects, recordings, report };
}
