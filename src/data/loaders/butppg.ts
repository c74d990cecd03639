// BUT-PPG 2.0.0 loader: root CSVs (quality-hr-ann.csv, subject-info.csv, both with a UTF-8 BOM) and one
// WFDB record per measurement, <ID>/<ID>_PPG.hea|dat (format 16, 30 Hz, 10 s). ID = 3-digit subject +
// 3-digit measurement. The reference HR (from ECG) covers the whole clip, so it is one label at the
// clip's centre.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Attributes, Recording, Subject } from '../types';
import { parseHeader } from '../wfdb/header';
import { readRecordWithHeader } from '../wfdb/read';
import { findColumn, readCsv } from './csv';
import { DatasetFolderError } from './errors';
import { repairButPpgHeader } from './butppg-header';
import type { LoadedDataset } from './types';

export interface ButPpgOptions {
  /** Keep recordings annotated as poor quality (Quality = 0); default false (they are skipped and counted). */
  includePoorQuality?: boolean;
  /** PPG signal to use when a record has several (name or index); default: the only one, else one named red/R, else the first. */
  channel?: string | number;
}

const ANN = 'quality-hr-ann.csv';
const INFO = 'subject-info.csv';

function findRoot(dir: string): string {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new DatasetFolderError(`BUT-PPG folder not found: ${abs}`);
  const has = (d: string) => fs.existsSync(path.join(d, ANN)) || fs.existsSync(path.join(d, INFO));
  if (has(abs)) return abs;
  const below = fs.readdirSync(abs, { withFileTypes: true }).filter((e) => e.isDirectory() && has(path.join(abs, e.name)));
  if (below.length === 1) return path.join(abs, below[0].name);
  throw new DatasetFolderError(
    below.length > 1
      ? `BUT-PPG: several candidate folders under ${abs}: ${below.map((e) => e.name).join(', ')}; pass one of them`
      : `BUT-PPG: ${abs} is not a BUT-PPG 2.0.0 folder: ${ANN} and ${INFO} are missing (looked in it and one level below)`,
  );
}

function normalizeId(raw: string): string | undefined {
  const s = raw.trim();
  if (!/^\d{1,6}$/.test(s)) return undefined;
  return s.padStart(6, '0');
}

function normalizeGender(raw: string | undefined): string | undefined {
  const g = (raw ?? '').trim().toUpperCase();
  if (g === 'M' || g === 'MALE') return 'M';
  if (g === 'F' || g === 'FEMALE') return 'F';
  return undefined;
}

function num(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '' || /^nan$/i.test(raw.trim())) return undefined;
  const v = Number(raw);
  return Number.isFinite(v) ? v : undefined;
}

function chooseChannel(names: string[], want: string | number | undefined): number {
  if (want !== undefined) return typeof want === 'number' ? want : names.indexOf(want);
  if (names.length === 1) return 0;
  const red = names.findIndex((n) => /^(r|red)$/i.test(n.trim()) || /\bred\b/i.test(n));
  return red >= 0 ? red : 0;
}

export async function loadButPpg(dir: string, options: ButPpgOptions = {}): Promise<LoadedDataset> {
  const root = findRoot(dir);
  const report: string[] = [];
  const ann = readCsv(path.join(root, ANN), ['ID', 'Quality', 'HR']);
  const info = readCsv(path.join(root, INFO), ['ID', 'Gender', 'Age', 'Height', 'Weight']);
  const col = (t: typeof info, name: string) => findColumn(t.columns, name)!;

  // subject-info.csv has one row per record; attributes are per subject, so merge and flag conflicts.
  const infoById = new Map<string, Record<string, string>>();
  info.rows.forEach((row, i) => {
    const id = normalizeId(row[col(info, 'ID')] ?? '');
    if (!id) report.push(`${INFO} row ${i + 2}: malformed ID '${row[col(info, 'ID')]}', row ignored`);
    else infoById.set(id, row);
  });
  const attrs = new Map<string, Attributes>();
  const conflicts = new Set<string>();
  for (const [id, row] of infoById) {
    const subject = id.slice(0, 3);
    const a: Attributes = {};
    const g = normalizeGender(row[col(info, 'Gender')]);
    if (g) a.gender = g;
    else report.push(`${INFO} ID ${id}: unknown gender '${row[col(info, 'Gender')]}'`);
    const age = num(row[col(info, 'Age')]);
    const height = num(row[col(info, 'Height')]);
    const weight = num(row[col(info, 'Weight')]);
    if (age !== undefined) a.age = age;
    if (height !== undefined) a.height = height;
    if (weight !== undefined) a.weight = weight;
    const prev = attrs.get(subject);
    if (!prev) {
      attrs.set(subject, a);
      continue;
    }
    for (const k of Object.keys(a)) {
      if (prev[k] === undefined) prev[k] = a[k];
      else if (prev[k] !== a[k] && !conflicts.has(`${subject}.${k}`)) {
        conflicts.add(`${subject}.${k}`);
        // Age can legitimately change between sessions (recordings span 16 months): keep the first value.
        report.push(`subject ${subject}: ${k} differs between records (${prev[k]} vs ${a[k]} in ${id}); keeping ${prev[k]}`);
      }
    }
  }

  const recordings: Recording[] = [];
  let poor = 0;
  const channelNotes = new Set<string>();
  for (let i = 0; i < ann.rows.length; i++) {
    const row = ann.rows[i];
    const rawId = row[col(ann, 'ID')] ?? '';
    const id = normalizeId(rawId);
    const where = `${ANN} row ${i + 2}`;
    if (!id) {
      report.push(`${where}: malformed ID '${rawId}', skipped`);
      continue;
    }
    const quality = num(row[col(ann, 'Quality')]);
    const hr = num(row[col(ann, 'HR')]);
    if (quality !== 0 && quality !== 1) {
      report.push(`${id}: Quality '${row[col(ann, 'Quality')]}' is not 0 or 1, skipped`);
      continue;
    }
    if (hr === undefined || !(hr > 0 && hr < 300)) {
      report.push(`${id}: reference HR '${row[col(ann, 'HR')]}' is missing or implausible, skipped`);
      continue;
    }
    if (quality === 0 && !options.includePoorQuality) {
      poor++;
      continue;
    }
    const name = `${id}_PPG`;
    const heaFile = path.join(root, id, `${name}.hea`);
    const datFile = path.join(root, id, `${name}.dat`);
    if (!fs.existsSync(heaFile)) {
      report.push(`${id}: missing record header ${heaFile}, skipped`);
      continue;
    }
    const datBytes = fs.existsSync(datFile) ? fs.statSync(datFile).size : undefined;
    const { text, repairs } = repairButPpgHeader(fs.readFileSync(heaFile, 'latin1'), name, datBytes);
    for (const r of repairs) report.push(`${id}: repaired header ${name}.hea: ${r}`);
    let rec;
    try {
      const header = parseHeader(text, heaFile);
      if (header.kind !== 'single') throw new Error(`${name}.hea is a multi-segment header`);
      const ch = chooseChannel(header.signals.map((s) => s.description), options.channel);
      if (ch < 0 || ch >= header.signals.length) throw new Error(`no PPG channel '${options.channel}' (signals: ${header.signals.map((s) => s.description).join(', ')})`);
      if (header.signals.length > 1) channelNotes.add(`records with ${header.signals.length} PPG signals: using '${header.signals[ch].description}'`);
      rec = readRecordWithHeader(header, { channels: [ch] });
    } catch (e) {
      report.push(`${id}: ${(e as Error).message}, skipped`);
      continue;
    }
    const sig = rec.signals[0];
    const invalid = sig.physical.reduce((n, v) => n + (Number.isNaN(v) ? 1 : 0), 0);
    if (invalid > 0) {
      report.push(`${id}: ${invalid} invalid samples in ${name}, skipped`);
      continue;
    }
    if (rec.fs !== 30) report.push(`${id}: sampling frequency ${rec.fs} Hz (BUT-PPG is 30 Hz); kept as declared`);
    const duration = sig.physical.length / sig.fs;
    const meta: Record<string, string | number> = { quality, channel: sig.name };
    const extra = infoById.get(id);
    if (!extra) report.push(`${id}: no row in ${INFO}`);
    else {
      const used = new Set(['ID', 'Gender', 'Age', 'Height', 'Weight'].map((c) => col(info, c)));
      for (const [k, v] of Object.entries(extra)) if (!used.has(k) && v !== '') meta[k] = v;
    }
    recordings.push({
      subjectId: id.slice(0, 3),
      recordId: id,
      fs: sig.fs,
      signal: Float32Array.from(sig.physical),
      hrTrack: { t: Float64Array.of(duration / 2), hr: Float64Array.of(hr) },
      meta,
    });
  }
  for (const n of channelNotes) report.push(n);
  if (poor > 0) report.push(`${poor} recordings annotated as poor quality (Quality = 0) skipped; pass includePoorQuality to keep them`);
  if (recordings.length === 0) {
    throw new DatasetFolderError(`BUT-PPG: no usable recordings in ${root}${report.length ? `:\n  ${report.slice(0, 20).join('\n  ')}` : ''}`);
  }
  const subjectIds = [...new Set(recordings.map((r) => r.subjectId))].sort();
  const subjects: Subject[] = subjectIds.map((id) => {
    const a = attrs.get(id);
    if (!a) report.push(`subject ${id}: no attributes in ${INFO}`);
    return { id, attributes: a ?? {} };
  });
  return { dataset: 'butppg', root, subjects, recordings, report };
}
