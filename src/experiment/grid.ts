// Preparing a grid once (data of every domain it needs, the group vocabulary, the foundation model of every
// size) and assembling its results from the stored cells. The coordinator of a queued run and every worker
// call the same prepareGrid: with the runs directory shared, workers load what the coordinator wrote; a
// worker that does not find it regenerates it, which gives the same data and checkpoints (deterministic).
import * as fs from 'fs';
import * as path from 'path';
import type { Backend } from '../engine/backend';
import { groupNames as vocabulary } from '../fairness/groups';
import { ExperimentConfig, targetsOf } from './config';
import { cellId, cellsOf } from './cell';
import { prepareDomains } from './data-stage';
import { ensurePretrained } from './pretrain-stage';
import type { CellResult, ExperimentResults } from './results';
import { progressBar } from '../util/progress';
import { modelConfig } from '../model/config';
import { checkMemory, planMemory } from '../model/memory';
import { cellsDirOf, readStoredCell, writeJsonAtomic } from './cell-store';
import type { CellFailure, GridContext } from './runner';

export function runDirOf(runsDir: string, c: ExperimentConfig): string {
  return path.join(runsDir, c.name);
}

/** Every domain the grid reads: sources, targets and the pretraining domains. */
export function neededDomains(c: ExperimentConfig): string[] {
  const pre = c.pretrain && 'domains' in c.pretrain ? c.pretrain.domains ?? Object.keys(c.domains) : [];
  return [...new Set([...c.sources, ...targetsOf(c), ...pre])];
}

export function prepareGrid(
  c: ExperimentConfig, runsDir: string, backend: Backend, o: { log?: (s: string) => void; progress?: boolean } = {},
): GridContext {
  const log = o.log ?? (() => {});
  const dir = runDirOf(runsDir, c);
  fs.mkdirSync(cellsDirOf(dir), { recursive: true });
  writeJsonAtomic(path.join(dir, 'config.json'), c);
  const prepared = prepareDomains(c, dir, neededDomains(c), log);
  const domains = prepared.domains;
  const folds = domains.values().next().value?.folds.length ?? 1;
  const allSubjects = [...domains.values()].flatMap((d) => [...d.train.subjects, ...d.val.subjects, ...d.test.subjects]);
  const groups = vocabulary(allSubjects, { attributes: c.groupBy.attributes, bands: c.groupBy.bands });
  log(`groups by ${c.groupBy.attributes.join(' × ')}: ${groups.join(', ')}`);
  const checkpoints = new Map<string, string | null>();
  let pretraining: { epoch: number; loss: number }[] | undefined;
  // Every size's fine-tuning plan before any work: a grid with a size that cannot fit stops here.
  const B = c.finetune.microBatch ?? c.finetune.batchSize;
  for (const size of c.sizes) {
    const mc = modelConfig(size, { hrPatches: c.windowSeconds });
    log(checkMemory(`${size} fine-tuning (batch ${B})`, planMemory(mc, { B, T: c.windowSeconds, training: true, head: 'hr' })));
  }
  for (const size of c.sizes) {
    const bar = progressBar(`pretrain ${size}`, 1, 'steps', o.progress);
    const pre = ensurePretrained(c, size, domains, dir, backend, {
      onStep: (d, t, loss) => { bar.setTotal(t); bar.update(d, { nll: loss }); },
      log,
    });
    bar.stop();
    checkpoints.set(size, pre.checkpoint);
    pretraining ??= pre.curve;
  }
  return {
    config: c, dir, domains, protocol: { kind: prepared.protocol, folds, reason: prepared.reason }, groups, targets: targetsOf(c), checkpoints, pretraining,
  };
}

/**
 * The grid's records in grid order: results produced now (`fresh`, kept in memory exactly as computed) or
 * else the stored file; failed cells without a result are listed with their error.
 */
export function assembleResults(
  c: ExperimentConfig, dir: string, manifests: Record<string, Record<string, unknown>>, pretraining: { epoch: number; loss: number }[] | undefined,
  fresh: Map<string, CellResult>, failed: CellFailure[],
): ExperimentResults {
  const cells: CellResult[] = [];
  for (const spec of cellsOf(c)) {
    const id = cellId(c, spec);
    const r = fresh.get(id) ?? readStoredCell(dir, id);
    if (r) cells.push(r);
  }
  // A cell with a result is not failed, whatever an earlier attempt said (a queue keeps old failures).
  const have = new Set(cells.map((r) => r.id));
  const stillFailed = failed.filter((f) => !have.has(f.id));
  return { name: c.name, config: c as unknown as Record<string, unknown>, manifests, pretraining, cells, failed: stillFailed, created: new Date().toISOString() };
}

export function manifestsOf(domains: GridContext['domains']): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [n, d] of domains) {
    const windows = d.folds.length === 1
      ? { train: d.train.hr.length, val: d.val.hr.length, test: d.test.hr.length }
      : { total: d.folds.reduce((a, f) => a + f.test.hr.length, 0), testPerFold: d.folds.map((f) => f.test.hr.length) };
    out[n] = { ...d.manifest, folds: d.folds.length, windows };
  }
  return out;
}
