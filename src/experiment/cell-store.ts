// Where a finished cell lives: runs/<name>/cells/<id>.json, one file per cell, written atomically. The file
// is the only record of a result: a runner that finds it never recomputes the cell, which makes re-delivered
// queue jobs cheap and leaves every cell exactly once in the results however often it ran.
import * as fs from 'fs';
import * as path from 'path';
import type { CellResult } from './results';
import { sweepStaleTemps, writeFileAtomic } from '../util/atomic-write';

export function cellsDirOf(runDir: string): string {
  return path.join(runDir, 'cells');
}

export function cellFile(runDir: string, id: string): string {
  return path.join(cellsDirOf(runDir), `${id}.json`);
}

/** Fold f's training state of a running cell: what a killed cell resumes from. */
export function cellStateFile(runDir: string, id: string, fold: number): string {
  return path.join(cellsDirOf(runDir), `${id}.fold${fold}.state.safetensors`);
}

/**
 * Deletes a cell's training states (once its result is stored they are only weight on the disk), and the
 * temporary files of state writes whose writer died mid-write (a worker machine killed while checkpointing).
 */
export function clearCellState(runDir: string, id: string): void {
  const dir = cellsDirOf(runDir);
  if (!fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(`${id}.fold`)) continue;
    if (f.endsWith('.state.safetensors')) fs.rmSync(path.join(dir, f), { force: true });
    const tmp = f.indexOf('.state.safetensors.tmp-');
    if (tmp >= 0) sweepStaleTemps(path.join(dir, f.slice(0, tmp + '.state.safetensors'.length)));
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 1));
}

export function storeCell(runDir: string, r: CellResult): string {
  const file = cellFile(runDir, r.id);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeJsonAtomic(file, r);
  return file;
}

/** The stored result of a cell, or null when it has none. A file that does not parse is an error, not "absent". */
export function readStoredCell(runDir: string, id: string): CellResult | null {
  const file = cellFile(runDir, id);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let r: CellResult;
  try {
    r = JSON.parse(text) as CellResult;
  } catch (e) {
    throw new Error(`stored cell ${file} is not valid JSON (${(e as Error).message}): delete it to recompute the cell`);
  }
  if (r === null || typeof r !== 'object' || r.id !== id || !Array.isArray(r.targets)) {
    throw new Error(`stored cell ${file} is not a cell result for ${id}: delete it to recompute the cell`);
  }
  return r;
}

/** One log line for a finished cell: its MAE and gap on its own domain. */
export function describeCell(r: CellResult): string {
  const own = r.targets.find((t) => t.target === r.source) ?? r.targets[0];
  const perf = own ? `MAE ${own.metrics.mae.estimate.toFixed(2)} gap ${own.metrics.gap.estimate.toFixed(2)} on ${own.target} · ` : '';
  return `${r.source} · ${r.strategy} · ${r.size} · seed ${r.seed}: ${perf}${r.training.windowsPerSecond.toFixed(0)} windows/s · ${r.training.seconds.toFixed(1)} s`;
}
