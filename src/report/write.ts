// Writes an experiment's report.html, metrics.csv and results.json. Each file is written to
// `<name>.tmp-<pid>` and renamed into place, so a reader (or a crash) never sees a half-written file.
import * as fs from 'fs';
import * as path from 'path';
import type { ExperimentResults } from '../experiment/results';
import { computeFindings } from './findings';
import { renderReport } from './html';
import { metricsCsv } from './metrics-csv';
import { alarmsCsv } from './alarms';
import { writeFileAtomic as writeAtomic } from '../util/atomic-write';

/** writeFileAtomic (util/atomic-write.ts), with the error naming the report. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  try {
    writeAtomic(file, text);
  } catch (e) {
    throw new Error(`report: cannot write ${file}: ${(e as Error).message}`);
  }
}

/** Renders everything first, then writes: a rendering error leaves the directory untouched. */
export async function writeReport(dir: string, results: ExperimentResults): Promise<{ html: string; csv: string; json: string; alarms?: string }> {
  const findings = computeFindings(results);
  const html = await renderReport(results, findings);
  const csv = metricsCsv(results);
  const hasAlarms = results.cells.some((c) => c.targets.some((t) => t.alarms));
  const alarms = hasAlarms ? alarmsCsv(results) : null;
  // The findings go into results.json too, so other tools read the same conclusions the page states.
  const json = JSON.stringify({ ...results, findings }, null, 2) + '\n';
  await fs.promises.mkdir(dir, { recursive: true });
  const files = { html: path.join(dir, 'report.html'), csv: path.join(dir, 'metrics.csv'), json: path.join(dir, 'results.json') };
  await writeFileAtomic(files.json, json);
  await writeFileAtomic(files.csv, csv);
  if (alarms !== null) {
    const file = path.join(dir, 'alarms.csv');
    await writeFileAtomic(file, alarms);
    Object.assign(files, { alarms: file });
  }
  await writeFileAtomic(files.html, html);
  return files;
}
