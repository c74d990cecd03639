// CSV tables of the dataset folders (BUT-PPG annotations and subject info, the MIMIC attribute table),
// read with csv-parse. Dataset CSVs start with a UTF-8 byte-order mark and sometimes pad fields.

import * as fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { DatasetFolderError } from './errors';

export interface CsvTable {
  file: string;
  columns: string[];
  rows: Record<string, string>[];
}

export function readCsv(file: string, requiredColumns: string[]): CsvTable {
  if (!fs.existsSync(file)) throw new DatasetFolderError(`missing file: ${file}`);
  let rows: Record<string, string>[];
  try {
    rows = parse(fs.readFileSync(file), { bom: true, columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (e) {
    throw new DatasetFolderError(`malformed CSV ${file}: ${(e as Error).message}`);
  }
  const columns = rows.length > 0 ? Object.keys(rows[0]) : headerColumns(file);
  const missing = requiredColumns.filter((c) => findColumn(columns, c) === undefined);
  if (missing.length > 0) {
    throw new DatasetFolderError(`${file}: missing column(s) ${missing.map((m) => `'${m}'`).join(', ')} (found ${columns.map((c) => `'${c}'`).join(', ')})`);
  }
  return { file, columns, rows };
}

function headerColumns(file: string): string[] {
  const first = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '';
  return first.split(',').map((s) => s.trim());
}

/** Finds a column by name, ignoring case and a trailing unit in brackets ("Age [years]" matches "age"). */
export function findColumn(columns: string[], name: string): string | undefined {
  const norm = (s: string) => s.replace(/\s*\[[^\]]*\]\s*$/, '').trim().toLowerCase();
  return columns.find((c) => c === name) ?? columns.find((c) => norm(c) === norm(name));
}
