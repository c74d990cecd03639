// Runs an experiment grid: data → (pretraining) → every cell not yet finished → the gathered results. Where
// the cells run is the runner's business, injected by the caller (src/runner: in this process, or on queue
// workers); each finished cell is one JSON file under runs/<name>/cells, written atomically, so an
// interrupted grid resumes where it stopped. Writing the report is the caller's (the CLI's) step.
import * as fs from 'fs';
import * as path from 'path';
import type { Backend } from '../engine/backend';
import { loadStoredDomains } from './data-stage';
import { readStoredCell } from './cell-store';
import { assembleResults, manifestsOf, neededDomains, prepareGrid, runDirOf } from './grid';
import type { CellFailure, GridRunner } from './runner';
import type { ExperimentConfig } from './config';
import { cellId, cellsOf, CellSpec } from './cell';
import type { ExperimentResults } from './results';

export interface RunOptions {
  /** Parent of runs/<name> (default ./runs). */
  runsDir: string;
  backend: Backend;
  log?: (s: string) => void;
  progress?: boolean;
  /** Where the cells run (src/runner: LocalRunner on `backend`, or a queue). The caller closes it. */
  runner: GridRunner;
}

export interface ExperimentOutcome {
  dir: string;
  results: ExperimentResults;
}

export async function runExperiment(c: ExperimentConfig, o: RunOptions): Promise<ExperimentOutcome> {
  const log = o.log ?? (() => {});
  const ctx = prepareGrid(c, o.runsDir, o.backend, { log, progress: o.progress });
  const cells = cellsOf(c);
  const pending: CellSpec[] = [];
  cells.forEach((spec, i) => {
    if (readStoredCell(ctx.dir, cellId(c, spec))) {
      log(`[${i + 1}/${cells.length}] ${spec.source} · ${spec.strategy} · ${spec.size} · seed ${spec.seed}: already finished`);
    } else {
      pending.push(spec);
    }
  });
  const out = await o.runner.run(ctx, pending, { log, progress: o.progress });
  const exp = assembleResults(c, ctx.dir, manifestsOf(ctx.domains), ctx.pretraining, out.results, out.failed);
  return { dir: ctx.dir, results: exp };
}

/**
 * The results of an experiment from its stored records only (cells, cached data, pretraining curve): nothing
 * is computed. `failed` lists cells known to have failed (e.g. the queue's failed jobs).
 */
export async function reportExperiment(
  c: ExperimentConfig, o: { runsDir: string; failed?: CellFailure[]; log?: (s: string) => void },
): Promise<ExperimentOutcome & { missing: string[] }> {
  const dir = runDirOf(o.runsDir, c);
  if (!fs.existsSync(dir)) throw new Error(`no stored experiment at ${dir}: run it first (or give the --runs directory it used)`);
  const manifests = manifestsOf(loadStoredDomains(c, dir, neededDomains(c)).domains);
  let pretraining: { epoch: number; loss: number }[] | undefined;
  if (c.pretrain && !('checkpoint' in c.pretrain)) {
    const curveFile = path.join(dir, `pretrained-${c.sizes[0]}.safetensors.json`);
    if (fs.existsSync(curveFile)) pretraining = JSON.parse(fs.readFileSync(curveFile, 'utf8')) as { epoch: number; loss: number }[];
  }
  const failed = o.failed ?? [];
  const exp = assembleResults(c, dir, manifests, pretraining, new Map(), failed);
  const have = new Set([...exp.cells.map((r) => r.id), ...failed.map((f) => f.id)]);
  const missing = cellsOf(c).map((s) => cellId(c, s)).filter((id) => !have.has(id));
  if (missing.length > 0) o.log?.(`${missing.length} of ${cellsOf(c).length} cells have no result yet`);
  return { dir, results: exp, missing };
}
